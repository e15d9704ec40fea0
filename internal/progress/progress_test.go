package progress

import (
	"testing"
)

func TestReadRawJSON(t *testing.T) {
	out := `#0 building with "b" instance using remote driver
{"vertexes":[{"digest":"sha256:aa","name":"[s 1/1] run x","started":"2026-12-06T01:00:00Z"}]}
{"vertexes":[{"digest":"sha256:aa","name":"[s 1/1] run x"}]}
{"vertexes":[{"digest":"sha256:aa","name":"[s 1/1] run x","started":"2026-12-06T01:00:00Z","completed":"2026-12-06T01:00:01Z"}],"logs":[{"vertex":"sha256:aa","data":"aGkK"}]}
{"vertexes":[{"digest":"sha256:bb","name":"[s 2/2] run y","cached":true}]}
`
	l, err := ReadRawJSON(out)
	if err != nil {
		t.Fatal(err)
	}
	a, b := l.Vertexes["sha256:aa"], l.Vertexes["sha256:bb"]
	if a == nil || a.Completed == nil || a.Cached || b == nil || !b.Cached {
		t.Errorf("vertexes %+v, %+v: want aa completed, bb cached", a, b)
	}
	if got, want := l.Output.String(), "#0 building with \"b\" instance using remote driver\nhi\n"; got != want {
		t.Errorf("output %q, want %q", got, want)
	}
	if _, err := ReadRawJSON("{not json\n"); err == nil {
		t.Error("a broken status line was taken")
	}
}
