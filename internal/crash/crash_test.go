package crash

import (
	"errors"
	"strings"
	"testing"
)

func panics(v any) (err error) {
	defer Recover(&err)
	panic(v)
}

func TestRecover(t *testing.T) {
	for _, tc := range []struct {
		name  string
		value any
		want  string
	}{
		{"string", "boom", "internal error in tomlfront"},
		{"error", errors.New("Key() is not supported on a Comment"), "Key() is not supported on a Comment"},
		{"runtime", nil, "index out of range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.value == nil {
				err = func() (err error) {
					defer Recover(&err)
					var s []int
					_ = s[len(s)] // index out of range
					return nil
				}()
			} else {
				err = panics(tc.value)
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a *crash.Error", err)
			}
			msg := err.Error()
			for _, want := range []string{tc.want, Version(), IssuesURL, "with the spec", "internal/crash.", "crash_test.go:"} {
				if want == "internal/crash." {
					if !strings.Contains(msg, " at internal/crash.") {
						t.Errorf("message names no function of tomlfront's: %s", msg)
					}
					continue
				}
				if !strings.Contains(msg, want) {
					t.Errorf("message lacks %q: %s", want, msg)
				}
			}
		})
	}
}

func TestNoPanicNoError(t *testing.T) {
	err := func() (err error) {
		defer Recover(&err)
		return nil
	}()
	if err != nil {
		t.Fatal(err)
	}
}
