package convert

import (
	"strings"
	"testing"
)

// FuzzConvert converts arbitrary Dockerfiles: nothing may panic, and what
// converts must be a spec that loads (Convert checks it, and says it is a
// bug when it does not).
func FuzzConvert(f *testing.F) {
	for _, seed := range []string{
		"FROM busybox\nRUN echo hi\n",
		"ARG V=1\nFROM busybox:${V} AS a\nENV A=\"x y\" B='$z'\nRUN --mount=type=cache,target=/c,id=x echo\nWORKDIR w\nCOPY --from=a --parents a/b /d/\n",
		"FROM scratch\nCOPY <<EOF /x\nhi\nEOF\nHEALTHCHECK --interval=1s CMD true\nEXPOSE 1-3/udp\n",
		"# check=error=true\nFROM a\nRUN <<-EOF\n\techo\n\tEOF\nSHELL [\"/bin/bash\",\"-c\"]\nENTRYPOINT x y\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		_, err := Convert("Dockerfile", src, Options{KeepGoing: true})
		if err != nil && strings.Contains(err.Error(), "which is a bug of tomlfront convert") {
			t.Fatalf("%v\n%q", err, src)
		}
	})
}
