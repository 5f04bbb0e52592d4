package main

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestVersionLine(t *testing.T) {
	goV := "go1.26.0"
	settings := func(kv ...string) []debug.BuildSetting {
		var out []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			out = append(out, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return out
	}
	rev := "0123456789abcdef0123456789abcdef01234567"
	for _, c := range []struct {
		name string
		info *debug.BuildInfo
		want string
	}{
		{"go install of a release",
			&debug.BuildInfo{GoVersion: goV, Main: debug.Module{Path: modulePath, Version: "v0.1.0"}},
			"drvsim v0.1.0, go1.26.0"},
		{"a build in a checkout, stamped",
			&debug.BuildInfo{GoVersion: goV, Main: debug.Module{Path: modulePath, Version: "v0.1.1-0.20260101000000-0123456789ab"},
				Settings: settings("vcs", "git", "vcs.revision", rev, "vcs.modified", "false")},
			"drvsim v0.1.1-0.20260101000000-0123456789ab (revision " + rev + "), go1.26.0"},
		{"a build in a checkout with changes",
			&debug.BuildInfo{GoVersion: goV, Main: debug.Module{Path: modulePath, Version: "(devel)"},
				Settings: settings("vcs.revision", rev, "vcs.modified", "true")},
			"drvsim devel (revision " + rev + ", modified), go1.26.0"},
		{"a build without VCS information",
			&debug.BuildInfo{GoVersion: goV, Main: debug.Module{Path: modulePath, Version: "(devel)"},
				Settings: settings("-buildvcs", "false")},
			"drvsim devel (no VCS revision recorded), go1.26.0"},
		{"a dependency of the user's module",
			&debug.BuildInfo{GoVersion: goV, Main: debug.Module{Path: "example.com/mine", Version: "(devel)"},
				Deps:     []*debug.Module{{Path: "golang.org/x/other", Version: "v1.0.0"}, {Path: modulePath, Version: "v0.2.3"}},
				Settings: settings("vcs.revision", rev)},
			"drvsim v0.2.3, go1.26.0"},
		{"a dependency replaced by a directory",
			&debug.BuildInfo{GoVersion: goV, Main: debug.Module{Path: "example.com/mine"},
				Deps: []*debug.Module{{Path: modulePath, Version: "v0.2.3", Replace: &debug.Module{Path: "../drvsim"}}}},
			"drvsim devel (replaced by ../drvsim), go1.26.0"},
		{"a dependency replaced by a fork",
			&debug.BuildInfo{GoVersion: goV, Main: debug.Module{Path: "example.com/mine"},
				Deps: []*debug.Module{{Path: modulePath, Version: "v0.2.3", Replace: &debug.Module{Path: "example.com/fork", Version: "v0.2.4"}}}},
			"drvsim v0.2.4 (replaced by example.com/fork), go1.26.0"},
		{"drvsim not in the build",
			&debug.BuildInfo{GoVersion: goV, Main: debug.Module{Path: "example.com/mine"}},
			"drvsim devel (github.com/drvsim/drvsim is not in the build information), go1.26.0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, versionLine(c.info, true))
		})
	}
	assert.Equal(t, "drvsim devel (no build information), "+runtime.Version(), versionLine(nil, false))
}

// drvsim --version, -version and version print the line of the running
// binary's build information; extra arguments are bad usage.
func TestVersionCommand(t *testing.T) {
	want := versionLine(debug.ReadBuildInfo()) + "\n"
	require.True(t, strings.HasPrefix(want, "drvsim "), want)
	for _, args := range [][]string{{"--version"}, {"-version"}, {"version"}} {
		rc, out, errs := runCLI(args...)
		assert.Equal(t, 0, rc, "%v: %s", args, errs)
		assert.Equal(t, want, out, "%v", args)
	}
	rc, _, errs := runCLI("version", "extra")
	assert.Equal(t, 2, rc)
	assert.Contains(t, errs, "version takes no arguments")
	rc, out, _ := runCLI("help", "version")
	assert.Equal(t, 0, rc)
	assert.Contains(t, out, "usage: drvsim version")
}

// A real build: the binary go build makes in this checkout prints the
// version and VCS revision the go command recorded in it (go version -m
// shows them), "devel" and no revision where it recorded none (a checkout
// that is a git worktree, a tree without VCS).
func TestVersionOfABuild(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "drvsim")
	args := []string{"build", "-buildvcs=auto", "-o", bin}
	if raceBuild() {
		args = append(args, "-race") // reuses the test's compiled packages
	}
	build := exec.Command("go", append(args, ".")...)
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	got, err := exec.Command(bin, "--version").Output()
	require.NoError(t, err)
	line := strings.TrimSuffix(string(got), "\n")

	meta, err := exec.Command("go", "version", "-m", bin).Output()
	require.NoError(t, err)
	version, rev, modified := "", "", ""
	for _, l := range strings.Split(string(meta), "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) >= 3 && f[0] == "mod" && f[1] == modulePath:
			version = f[2]
		case len(f) == 2 && f[0] == "build" && strings.HasPrefix(f[1], "vcs.revision="):
			rev = strings.TrimPrefix(f[1], "vcs.revision=")
		case len(f) == 2 && f[0] == "build" && f[1] == "vcs.modified=true":
			modified = ", modified"
		}
	}
	require.NotEmpty(t, version, "go version -m %s:\n%s", bin, meta)
	if version == "(devel)" {
		version = "devel"
	}
	want := "drvsim " + version
	switch {
	case rev != "":
		want += " (revision " + rev + modified + ")"
	case version == "devel":
		want += " (no VCS revision recorded)"
	}
	assert.Equal(t, want+", "+runtime.Version(), line, "go version -m:\n%s", meta)
}

// raceBuild reports whether this test binary was built with -race.
func raceBuild() bool {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range info.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}
