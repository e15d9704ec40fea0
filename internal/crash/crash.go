// Package crash turns a panic inside tomlfront into an error a user can act
// on: it says the failure is tomlfront's, names the version, and asks for a
// report with the spec. The frontend and every command of the CLI defer
// Recover. It must not import the rest of tomlfront, so that any package can
// use it.
package crash

import (
	"fmt"
	"os"
	"runtime/debug"
	"strings"
)

// IssuesURL is where reports go.
const IssuesURL = "https://github.com/tomlfront/tomlfront/issues"

// version is set at link time (-ldflags "-X .../internal/crash.version=v1.2.3");
// otherwise it comes from the module's build information.
var version string

// Version is the version of this binary: the link-time version, the module
// version, or the VCS revision it was built from.
func Version() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			return "devel " + s.Value
		}
	}
	return "devel"
}

// Error is a panic turned into an error.
type Error struct {
	Value any    // what was passed to panic
	Stack []byte // the panicking goroutine's stack
}

func (e *Error) Error() string {
	where := ""
	if f := frame(e.Stack); f != "" {
		where = " at " + f
	}
	return fmt.Sprintf("internal error in tomlfront %s: %v%s. This is a bug in tomlfront, not in your spec: "+
		"please report it at %s with the spec and this message", Version(), e.Value, where, IssuesURL)
}

// Recover turns a panic into an *Error stored in *errp. Use it deferred:
//
//	defer crash.Recover(&err)
//
// The stack goes to standard error, for the report (under BuildKit, that is
// the daemon's log); the message is the caller's to show.
func Recover(errp *error) {
	if r := recover(); r != nil {
		e := &Error{Value: r, Stack: debug.Stack()}
		fmt.Fprintf(os.Stderr, "tomlfront: panic: %v\n%s\n", r, e.Stack)
		*errp = e
	}
}

// frame is the first function of tomlfront's own below the panic, as
// "package.Function (file.go:LINE)".
func frame(stack []byte) string {
	lines := strings.Split(string(stack), "\n")
	for i := 0; i+1 < len(lines); i++ {
		fn := lines[i]
		if !strings.HasPrefix(fn, "github.com/tomlfront/tomlfront/") || strings.HasPrefix(fn, "github.com/tomlfront/tomlfront/internal/crash.Recover(") {
			continue
		}
		fn = strings.TrimPrefix(fn, "github.com/tomlfront/tomlfront/")
		if j := strings.LastIndex(fn, "("); j > 0 {
			fn = fn[:j]
		}
		file := strings.TrimSpace(lines[i+1])
		if j := strings.LastIndex(file, " +0x"); j > 0 {
			file = file[:j]
		}
		if j := strings.LastIndex(file, "/"); j >= 0 {
			file = file[j+1:]
		}
		return fmt.Sprintf("%s (%s)", fn, file)
	}
	return ""
}
