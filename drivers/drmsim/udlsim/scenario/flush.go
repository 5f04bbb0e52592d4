package scenario

import (
	"errors"
	"fmt"

	"github.com/drvsim/drvsim"

	"github.com/drvsim/drvsim/drivers/drmsim"
	"github.com/drvsim/drvsim/drivers/drmsim/udlsim"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/sim"
)

// FlushVsUnplug is the lifecycle scenario of the udl tests: a process has
// /dev/dri/card0 open with a dumb buffer when the adapter is unplugged
// while the process flushes the buffer. Two simulated tasks: "flush"
// (DRM_IOCTL_MODE_DIRTYFB; then, once the unplug is complete, the ioctl
// again and the close) and "unplug" (the hub sees the port go empty).
//
// Invariants checked inside the run (a violation fails it, with the
// schedule to replay): the first flush succeeds or fails with -ENODEV;
// after the unplug the flush and DRM_IOCTL_VERSION fail with -ENODEV and
// a new open of /dev/dri/card0 with -ENOENT (the node is gone); the close
// succeeds. At the end of the run the drm device must
// have been released (a leak check), every allocation freed exactly once
// (the Sim's leak check and sanitizer), and every drmm action must have run
// after every devm action of the interface.
type FlushVsUnplug struct {
	// Variant is the driver under test.
	Variant udlsim.Variant
	// Lines is the height of the buffer flushed (default 2).
	Lines int

	// Results of the last run.
	FlushErr, AfterErr, VersionErr, ReopenErr error

	runs drvsim.Runs // the Systems of the runs so far
}

// Scenario sets up one run on s: build the rig, plug the adapter, open
// card0, create the buffer, start the tasks. It is a sim scenario function
// (sim.Run, sim.Explore). Call Close after the run(s).
func (sc *FlushVsUnplug) Scenario(s *sim.Sim) {
	sc.Close()
	r, err := NewRig(sc.Variant, sc.runs.System(s))
	if err != nil {
		panic(err)
	}
	sc.FlushErr, sc.AfterErr, sc.VersionErr, sc.ReopenErr = nil, nil, nil, nil
	if _, err := r.Plug(1); err != nil {
		panic(err)
	}
	f, err := r.Class.Open("card0")
	if err != nil {
		panic(err)
	}
	lines := sc.Lines
	if lines <= 0 {
		lines = 2
	}
	cd := &drmsim.CreateDumbArgs{Width: 16, Height: uint32(lines), BPP: 32}
	if err := f.Ioctl(drmsim.IoctlCreateDumb, cd); err != nil {
		panic(err)
	}
	d := f.Device()
	s.AddLeakCheck("drm device", func() []string {
		if !d.Released() {
			return []string{fmt.Sprintf("%s not released (refs=%d)", d.Path(), d.Refs())}
		}
		return nil
	})
	s.AddLeakCheck("devm before drmm", func() []string { return devmBeforeDrmm(s) })
	unplugged := false
	s.Go("flush", func() {
		sc.FlushErr = f.Ioctl(drmsim.IoctlDirtyFB, &drmsim.DirtyFBArgs{Handle: cd.Handle})
		if sc.FlushErr != nil && !errors.Is(sc.FlushErr, drmsim.ErrNoDevice) {
			panic(fmt.Sprintf("flush: want success or -ENODEV, got %v", sc.FlushErr))
		}
		// The process learns that the adapter is gone (the remove uevent).
		s.Block(sched.Wait{What: "remove uevent"}, func() bool { return unplugged })
		sc.AfterErr = f.Ioctl(drmsim.IoctlDirtyFB, &drmsim.DirtyFBArgs{Handle: cd.Handle})
		sc.VersionErr = f.Ioctl(drmsim.IoctlVersion, &drmsim.VersionArgs{})
		_, sc.ReopenErr = r.Class.Open("card0")
		for i, err := range []error{sc.AfterErr, sc.VersionErr} {
			if !errors.Is(err, drmsim.ErrNoDevice) {
				panic(fmt.Sprintf("%s after unplug: want -ENODEV, got %v", []string{"flush", "version"}[i], err))
			}
		}
		if !errors.Is(sc.ReopenErr, drmsim.ErrNoEntry) {
			panic(fmt.Sprintf("open after unplug: want -ENOENT (the node is gone), got %v", sc.ReopenErr))
		}
		if err := f.Close(); err != nil {
			panic(fmt.Sprintf("close: %v", err))
		}
	})
	s.Go("unplug", func() {
		if err := r.Unplug(1); err != nil {
			panic(err)
		}
		unplugged = true
	})
}

// devmBeforeDrmm checks the trace: every devm action of the run was
// released before the first drm_managed_release entry.
func devmBeforeDrmm(s *sim.Sim) []string {
	var lastDevm, firstDrmm uint64
	for _, e := range s.Log().Events() {
		switch {
		case e.Func == "devm_action_release":
			lastDevm = e.Seq
		case e.Kind == drmsim.KindManaged && e.Func == "drm_managed_release" && firstDrmm == 0:
			firstDrmm = e.Seq
		}
	}
	if firstDrmm == 0 || lastDevm > firstDrmm {
		return []string{fmt.Sprintf("drmm release (seq %d) not after every devm action (last seq %d)", firstDrmm, lastDevm)}
	}
	return nil
}

// Close closes the Systems of the runs so far.
func (sc *FlushVsUnplug) Close() {
	sc.runs.Close()
}
