package llbgen

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tomlfront/tomlfront/spec"
)

// newImage starts a stage's image config from its base's, or from an empty
// config with a default PATH, as the Dockerfile frontend does.
func newImage(base *dockerspec.DockerOCIImage, p ocispecs.Platform) *dockerspec.DockerOCIImage {
	img := &dockerspec.DockerOCIImage{}
	if base != nil {
		img = cloneImage(base)
	} else { // scratch, as the Dockerfile's empty image
		img.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
		img.Config.WorkingDir = "/"
	}
	img.Platform = ocispecs.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant, OSVersion: p.OSVersion, OSFeatures: p.OSFeatures}
	img.RootFS.Type = "layers"
	return img
}

// cloneImage copies a config deeply, so stages never share one.
func cloneImage(img *dockerspec.DockerOCIImage) *dockerspec.DockerOCIImage {
	out := *img
	out.Platform.OSFeatures = slices.Clone(img.Platform.OSFeatures)
	out.RootFS.DiffIDs = slices.Clone(img.RootFS.DiffIDs)
	out.History = slices.Clone(img.History)
	cfg := &out.Config
	cfg.Env = slices.Clone(cfg.Env)
	cfg.Entrypoint = slices.Clone(cfg.Entrypoint)
	cfg.Cmd = slices.Clone(cfg.Cmd)
	cfg.Shell = slices.Clone(cfg.Shell)
	cfg.OnBuild = slices.Clone(cfg.OnBuild)
	cfg.ExposedPorts = maps.Clone(cfg.ExposedPorts)
	cfg.Volumes = maps.Clone(cfg.Volumes)
	cfg.Labels = maps.Clone(cfg.Labels)
	if cfg.Healthcheck != nil {
		h := *cfg.Healthcheck
		h.Test = slices.Clone(h.Test)
		cfg.Healthcheck = &h
	}
	return &out
}

// applyImage applies the stage's `image` table over the config it has.
func (c *converter) applyImage(s *stageState, img *spec.Image) error {
	cfg := &s.image.Config
	expand := func(list spec.Strings) ([]string, error) {
		out := make([]string, 0, len(list.Values))
		for _, v := range list.Values {
			e, err := c.spec.Expand(v, s.vars)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		return out, nil
	}
	var err error
	if img.Entrypoint.Loc.Present() {
		if cfg.Entrypoint, err = expand(img.Entrypoint); err != nil {
			return err
		}
		if !img.Cmd.Loc.Present() {
			cfg.Cmd = nil // as ENTRYPOINT in a Dockerfile, drop the base's CMD
		}
	}
	if img.Cmd.Loc.Present() {
		if cfg.Cmd, err = expand(img.Cmd); err != nil {
			return err
		}
	}
	if img.User.Loc.Present() {
		if cfg.User, err = c.spec.Expand(img.User, s.vars); err != nil {
			return err
		}
	}
	if img.StopSignal.Loc.Present() {
		if cfg.StopSignal, err = c.spec.Expand(img.StopSignal, s.vars); err != nil {
			return err
		}
	}
	if img.Author.Loc.Present() {
		if s.image.Author, err = c.spec.Expand(img.Author, s.vars); err != nil {
			return err
		}
	}
	ports, err := expand(img.Expose)
	if err != nil {
		return err
	}
	for _, p := range ports {
		if cfg.ExposedPorts == nil {
			cfg.ExposedPorts = map[string]struct{}{}
		}
		expanded, err := portRange(p)
		if err != nil {
			return c.spec.ErrorAt(img.Expose.Loc.Value, "%w", err)
		}
		for _, port := range expanded {
			cfg.ExposedPorts[port] = struct{}{}
		}
	}
	volumes, err := expand(img.Volumes)
	if err != nil {
		return err
	}
	for _, v := range volumes {
		if cfg.Volumes == nil {
			cfg.Volumes = map[string]struct{}{}
		}
		cfg.Volumes[v] = struct{}{}
	}
	for _, l := range img.Labels {
		v, err := c.spec.Expand(l.Value, s.vars)
		if err != nil {
			return err
		}
		if cfg.Labels == nil {
			cfg.Labels = map[string]string{}
		}
		cfg.Labels[l.Name] = v
	}
	if h := img.Healthcheck; h != nil {
		hc := &dockerspec.HealthcheckConfig{Retries: int(h.Retries.Value)}
		if hc.Test, err = expand(h.Test); err != nil {
			return err
		}
		for _, d := range []struct {
			key string
			src spec.String
			dst *time.Duration
		}{{"interval", h.Interval, &hc.Interval}, {"timeout", h.Timeout, &hc.Timeout}, {"start_period", h.StartPeriod, &hc.StartPeriod}, {"start_interval", h.StartInterval, &hc.StartInterval}} {
			if !d.src.Loc.Present() {
				continue
			}
			v, err := c.spec.Expand(d.src, s.vars)
			if err != nil {
				return err
			}
			if *d.dst, err = spec.ParseDuration(d.key, v); err != nil {
				return c.spec.ErrorAt(d.src.Loc.Value, "%w", err)
			}
		}
		cfg.Healthcheck = hc
	}
	return nil
}

// applyLabels adds --label values to the config.
func applyLabels(img *dockerspec.DockerOCIImage, labels map[string]string) {
	if len(labels) == 0 {
		return
	}
	if img.Config.Labels == nil {
		img.Config.Labels = map[string]string{}
	}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		img.Config.Labels[k] = labels[k]
	}
}

// addHistory records a step in the image history, as `docker history`
// shows it.
func addHistory(img *dockerspec.DockerOCIImage, createdBy string, emptyLayer bool) {
	img.History = append(img.History, ocispecs.History{CreatedBy: createdBy, Comment: "tomlfront", EmptyLayer: emptyLayer})
}

// portRange is an exposed port as the Dockerfile records it: PORT/PROTO
// (tcp when left out), a range as each of its ports.
func portRange(p string) ([]string, error) {
	p = strings.ToLower(p)
	port, proto, ok := strings.Cut(p, "/")
	if !ok {
		proto = "tcp"
	}
	first, last, isRange := strings.Cut(port, "-")
	if !isRange {
		return []string{port + "/" + proto}, nil
	}
	lo, err1 := strconv.ParseUint(first, 10, 16)
	hi, err2 := strconv.ParseUint(last, 10, 16)
	if err1 != nil || err2 != nil || hi < lo {
		return nil, fmt.Errorf("invalid port range %q: write FIRST-LAST, FIRST not above LAST", p)
	}
	out := make([]string, 0, hi-lo+1)
	for n := lo; n <= hi; n++ {
		out = append(out, strconv.FormatUint(n, 10)+"/"+proto)
	}
	return out, nil
}
