package sim

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Environment variables a replay hint sets.
const (
	// EnvSeed overrides the seed of a test that uses SeedFromEnv.
	EnvSeed = "DRVSIM_SEED"
	// EnvSchedule forces the schedule of a test that uses ScheduleFromEnv:
	// task names separated by commas, "name*N" for N in a row.
	EnvSchedule = "DRVSIM_SCHEDULE"
)

// SeedFromEnv returns the seed in DRVSIM_SEED, or def when it is unset or
// not a number.
func SeedFromEnv(def uint64) uint64 {
	if v, ok := os.LookupEnv(EnvSeed); ok {
		if n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64); err == nil {
			return n
		}
	}
	return def
}

// ScheduleFromEnv returns the schedule in DRVSIM_SCHEDULE, nil when unset.
func ScheduleFromEnv() []string {
	v, ok := os.LookupEnv(EnvSchedule)
	if !ok || strings.TrimSpace(v) == "" {
		return nil
	}
	sch, err := ParseSchedule(v)
	if err != nil {
		panic(fmt.Sprintf("sim: %s: %v", EnvSchedule, err))
	}
	return sch
}

// EnvConfig returns a Config for the named test with the seed from
// DRVSIM_SEED (default def) and the schedule from DRVSIM_SCHEDULE, so the
// replay hint of a failure reproduces it:
//
//	cfg := sim.ExploreConfig{Config: sim.EnvConfig(t.Name(), 1), Mode: sim.Random}
func EnvConfig(test string, def uint64) Config {
	return Config{Seed: SeedFromEnv(def), Replay: ScheduleFromEnv(), Test: test}
}

// FormatSchedule renders a schedule as DRVSIM_SCHEDULE expects it,
// collapsing runs: "reader*3,unplug".
func FormatSchedule(sch []string) string {
	var parts []string
	for i := 0; i < len(sch); {
		j := i + 1
		for j < len(sch) && sch[j] == sch[i] {
			j++
		}
		if j-i > 1 {
			parts = append(parts, fmt.Sprintf("%s*%d", sch[i], j-i))
		} else {
			parts = append(parts, sch[i])
		}
		i = j
	}
	return strings.Join(parts, ",")
}

// ParseSchedule is the inverse of FormatSchedule.
func ParseSchedule(text string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(text, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		n := 1
		if i := strings.LastIndex(p, "*"); i >= 0 {
			c, err := strconv.Atoi(p[i+1:])
			if err != nil || c < 1 {
				return nil, fmt.Errorf("bad repeat count in %q", p)
			}
			p, n = p[:i], c
		}
		for ; n > 0; n-- {
			out = append(out, p)
		}
	}
	return out, nil
}

// packageDir returns the working directory relative to the module root
// ("./sim"): a test binary runs in its package's directory.
func packageDir() string {
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			rel, err := filepath.Rel(dir, wd)
			if err != nil || rel == "." {
				return "."
			}
			return "./" + filepath.ToSlash(rel)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "."
		}
		dir = parent
	}
}
