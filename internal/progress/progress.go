// Package progress reads BuildKit's status stream, as the client's
// SolveStatus or as `buildx --progress=rawjson` prints it: the last status
// of each vertex and the output of the steps. It imports nothing of
// tomlfront's; the e2e tests and bench/ci read builds through it.
package progress

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/moby/buildkit/client"
	digest "github.com/opencontainers/go-digest"
)

// Log is what a build's status said.
type Log struct {
	Vertexes map[digest.Digest]*client.Vertex // the last status of each
	Output   strings.Builder                  // the steps' output, and buildx's own lines
}

// New returns an empty Log.
func New() *Log { return &Log{Vertexes: map[digest.Digest]*client.Vertex{}} }

// Add takes one status. A vertex sent again before it starts does not undo
// what an earlier status said of it, as progressui reads it too.
func (l *Log) Add(st *client.SolveStatus) {
	for _, v := range st.Vertexes {
		if prev := l.Vertexes[v.Digest]; prev == nil || prev.Started == nil || v.Started != nil {
			l.Vertexes[v.Digest] = v
		}
	}
	for _, s := range st.Logs {
		l.Output.Write(s.Data)
	}
}

// ReadRawJSON reads buildx's --progress=rawjson output: one status a line;
// the other lines (buildx's own messages) go to the output as they are.
func ReadRawJSON(out string) (*Log, error) {
	l := New()
	for line := range strings.Lines(out) {
		if !strings.HasPrefix(line, "{") {
			l.Output.WriteString(line)
			continue
		}
		var st client.SolveStatus
		if err := json.Unmarshal([]byte(line), &st); err != nil {
			return l, fmt.Errorf("progress: %v: %s", err, line)
		}
		l.Add(&st)
	}
	return l, nil
}
