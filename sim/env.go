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
	// EnvSeed overrides the seed of a test that uses EnvConfig or
	// SeedFromEnv: a decimal number.
	EnvSeed = "DRVSIM_SEED"
	// EnvSchedule forces the schedule of a test that uses EnvConfig or
	// ScheduleFromEnv: task names separated by commas, "name*N" for N in a
	// row (FormatSchedule).
	EnvSchedule = "DRVSIM_SCHEDULE"
)

// SeedFromEnv returns the seed in DRVSIM_SEED, or def when it is unset.
// A value that is not a decimal uint64 is an error, never a silent
// default.
func SeedFromEnv(def uint64) (uint64, error) {
	v, ok := os.LookupEnv(EnvSeed)
	if !ok {
		return def, nil
	}
	n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return def, fmt.Errorf("bad %s=%q: want a decimal number from 0 to %d", EnvSeed, v, uint64(1<<64-1))
	}
	return n, nil
}

// ScheduleFromEnv returns the schedule in DRVSIM_SCHEDULE, nil when it is
// unset or blank. A value ParseSchedule refuses is an error.
func ScheduleFromEnv() ([]string, error) {
	v, ok := os.LookupEnv(EnvSchedule)
	if !ok || strings.TrimSpace(v) == "" {
		return nil, nil
	}
	sch, err := ParseSchedule(v)
	if err != nil {
		return nil, fmt.Errorf("bad %s: %w", EnvSchedule, err)
	}
	return sch, nil
}

// EnvConfig returns a Config for the named test with the seed from
// DRVSIM_SEED (default def) and the schedule from DRVSIM_SCHEDULE, so the
// replay hint of a failure reproduces it:
//
//	cfg := sim.ExploreConfig{Config: sim.EnvConfig(t.Name(), 1), Mode: sim.Random}
//
// A bad value in either variable is kept in the Config: Run and Explore
// then run nothing and fail at once with a BugBadInput report naming the
// variable and what is wrong with it.
func EnvConfig(test string, def uint64) Config {
	cfg := Config{Test: test}
	var err error
	if cfg.Seed, err = SeedFromEnv(def); err != nil {
		cfg.envErr = err
		return cfg
	}
	if cfg.Replay, err = ScheduleFromEnv(); err != nil {
		cfg.envErr = err
	}
	return cfg
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
