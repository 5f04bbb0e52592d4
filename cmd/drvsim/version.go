package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// modulePath is the path of drvsim's module.
const modulePath = "github.com/drvsim/drvsim"

// versionLine describes the drvsim a binary was built from, from its build
// information (debug.ReadBuildInfo; ok false: none):
//
//	drvsim v0.1.0, go1.26.0                    go install ...@v0.1.0
//	drvsim devel (revision 0123abcd..., modified), go1.26.0
//	drvsim devel (no VCS revision recorded), go1.26.0
//
// The version is that of the drvsim module, whether it is the main module
// (go install, a build in a checkout) or a dependency of the main one (a
// program of the user's own module); "devel" when the build has none (a
// build in a checkout without version stamping, a replace by a
// directory). The revision is the VCS commit the go command recorded for
// a build in a checkout, with "modified" when the tree had uncommitted
// changes; it is shown when drvsim is the main module.
func versionLine(info *debug.BuildInfo, ok bool) string {
	goVersion := runtime.Version()
	if !ok || info == nil {
		return fmt.Sprintf("drvsim devel (no build information), %s", goVersion)
	}
	if info.GoVersion != "" {
		goVersion = info.GoVersion
	}
	mod, isMain := &info.Main, true
	if mod.Path != modulePath {
		mod, isMain = nil, false
		for _, d := range info.Deps {
			if d.Path == modulePath {
				mod = d
				break
			}
		}
	}
	if mod == nil {
		return fmt.Sprintf("drvsim devel (%s is not in the build information), %s", modulePath, goVersion)
	}
	version, note := mod.Version, ""
	if r := mod.Replace; r != nil {
		version, note = r.Version, "replaced by "+r.Path
	}
	if version == "" || version == "(devel)" {
		version = "devel"
	}
	if isMain {
		var rev, modified string
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
		switch {
		case rev != "" && modified == "true":
			note = "revision " + rev + ", modified"
		case rev != "":
			note = "revision " + rev
		case version == "devel":
			note = "no VCS revision recorded"
		}
	}
	if note != "" {
		return fmt.Sprintf("drvsim %s (%s), %s", version, note, goVersion)
	}
	return fmt.Sprintf("drvsim %s, %s", version, goVersion)
}

// versionUsage is the help of `drvsim version`.
const versionUsage = `usage: drvsim version   (or: drvsim --version)

Prints the version of drvsim the binary was built from: a release
(v0.x.y), a pseudo-version, or "devel" with the VCS revision of the
checkout it was built in when the go command recorded one.
`

// runVersion is `drvsim version` and `drvsim --version`: the version line
// of the running binary, on stdout.
func runVersion(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "drvsim: version takes no arguments\n%s", usage)
		return 2
	}
	fmt.Fprintln(stdout, versionLine(debug.ReadBuildInfo()))
	return 0
}
