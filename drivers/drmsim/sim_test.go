package drmsim_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim/drivers/drmsim"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/sim"
)

// flushVsUnplug is a sim scenario on the platform gpu: task "flush" runs
// DRM_IOCTL_MODE_DIRTYFB while task "unplug" unbinds the device. The
// flush either completes or fails with -ENODEV; afterwards every ioctl
// fails with -ENODEV; the close frees the drm device (the leak checks).
type flushVsUnplug struct {
	broken bool
	rigs   []*rig
	t      testing.TB
}

func (sc *flushVsUnplug) close() {
	for _, r := range sc.rigs {
		r.sys.Close()
	}
	sc.rigs = nil
}

func (sc *flushVsUnplug) scenario(s *sim.Sim) {
	sc.close()
	r := newRig(sc.t, s, sc.broken)
	sc.rigs = append(sc.rigs, r)
	f, h := openBuffer(sc.t, r.class)
	d := r.g.drm
	s.AddLeakCheck("drm device", func() []string {
		if !d.Released() {
			return []string{fmt.Sprintf("%s not released, refs=%d", d.Path(), d.Refs())}
		}
		return nil
	})
	unplugged := false
	s.Go("flush", func() {
		err := f.Ioctl(drmsim.IoctlDirtyFB, &drmsim.DirtyFBArgs{Handle: h})
		if err != nil && !errors.Is(err, drmsim.ErrNoDevice) {
			panic(fmt.Sprintf("flush: want nil or -ENODEV, got %v", err))
		}
		s.Block(sched.Wait{What: "unplug done"}, func() bool { return unplugged })
		if err := f.Ioctl(drmsim.IoctlDirtyFB, &drmsim.DirtyFBArgs{Handle: h}); !errors.Is(err, drmsim.ErrNoDevice) {
			panic(fmt.Sprintf("flush after unplug: want -ENODEV, got %v", err))
		}
		if err := f.Close(); err != nil {
			panic(err)
		}
	})
	s.Go("unplug", func() {
		if err := r.sys.UnregisterDevice(r.dev); err != nil {
			panic(err)
		}
		unplugged = true
	})
}

func TestFlushVsUnplugExhaustive(t *testing.T) {
	sc := &flushVsUnplug{t: t}
	defer sc.close()
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Schedules: 1000000, Config: sim.EnvConfig(t.Name(), 0)}, sc.scenario)
	require.False(t, res.Failed(), res.String())
	assert.True(t, res.Exhausted)
	t.Logf("%s", res) // explore (exhaustive): N schedules, space exhausted, no failure
}

func TestBrokenFlushUseAfterFree(t *testing.T) {
	sc := &flushVsUnplug{t: t, broken: true}
	defer sc.close()
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Config: sim.EnvConfig(t.Name(), 0)}, sc.scenario)
	require.True(t, res.Failed(), "the driver without drm_dev_enter must be caught")
	assert.Equal(t, sim.BugUseAfterFree, res.Failure.Failure.Kind)
	assert.Contains(t, res.Failure.Failure.Title, "use-after-free in gpu flush: write framebuffer registers")
	t.Logf("%s", res)
}

// drm_dev_unplug sets dev->unplugged before anything else: once its
// "unplugged" event is in the trace, a drm_dev_enter that starts must
// fail. Task "reader" notes the trace position, enters and, if it got in,
// checks that the unplug had not been traced before it started; task
// "unplug" unbinds the device. Every interleaving within 2 preemptions.
func TestEnterAfterUnplugMarkFails(t *testing.T) {
	var rigs []*rig
	defer func() {
		for _, r := range rigs {
			r.sys.Close()
		}
	}()
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Schedules: 100000, MaxPreemptions: 2,
		Config: sim.EnvConfig(t.Name(), 0)}, func(s *sim.Sim) {
		r := newRig(t, s, false)
		rigs = append(rigs, r)
		d := r.g.drm.Get() // the reader's reference, as an open file's
		s.Go("reader", func() {
			defer d.Put()
			before := s.Log().Seq()
			idx, ok := d.Enter()
			if !ok {
				return
			}
			defer d.Exit(idx)
			for _, e := range s.Log().Events() {
				if e.Seq <= before && e.Func == "drm_dev_unplug" && strings.HasPrefix(e.Msg, "unplugged") {
					panic(fmt.Sprintf("drm_dev_enter started after %q (seq %d) and succeeded", e.Short(), e.Seq))
				}
			}
		})
		s.Go("unplug", func() {
			if err := r.sys.UnregisterDevice(r.dev); err != nil {
				panic(err)
			}
		})
	})
	require.False(t, res.Failed(), res.String())
	assert.True(t, res.Exhausted)
}
