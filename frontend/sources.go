package frontend

import (
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	"github.com/tomlfront/tomlfront/llbgen"
	"github.com/tomlfront/tomlfront/spec"
)

// sources are the source infos of the spec's files in a subrequest's
// answer, the main one first: a location's SourceIndex points into them.
type sources struct {
	main  *llb.SourceMap
	infos []*pb.SourceInfo
	index map[string]int32
}

func newSources(main *llb.SourceMap) *sources {
	s := &sources{main: main, index: map[string]int32{}}
	s.add(main.Filename, main.Data)
	return s
}

// add returns the index of file, adding it when new.
func (s *sources) add(file string, data []byte) int32 {
	if i, ok := s.index[file]; ok {
		return i
	}
	info := &pb.SourceInfo{Filename: file, Data: data, Language: s.main.Language}
	if file == s.main.Filename && s.main.Definition != nil {
		info.Definition = s.main.Definition.ToPB()
	}
	i := int32(len(s.infos))
	s.infos, s.index[file] = append(s.infos, info), i
	return i
}

// location is r of the spec's files.
func (s *sources) location(files spec.Files, r spec.Range) *pb.Location {
	f := files[r.File]
	return &pb.Location{SourceIndex: s.add(f.Name, f.Source), Ranges: []*pb.Range{llbgen.PBRange(r)}}
}

// data are the sources' texts, as targets and outline list them.
func (s *sources) data() [][]byte {
	out := make([][]byte, len(s.infos))
	for i, info := range s.infos {
		out[i] = info.Data
	}
	return out
}

// info is the source of an error: its own file, else the main one.
func (s *sources) info(e *spec.Error) *pb.SourceInfo {
	if e.File == "" {
		return s.infos[0]
	}
	return s.infos[s.add(e.File, e.Source)]
}

// orPos is r, or the empty range at pos when r is unknown.
func orPos(r spec.Range, pos spec.Pos) spec.Range {
	if r.Start.Line == 0 {
		return spec.Range{File: r.File, Start: pos, End: pos}
	}
	return r
}
