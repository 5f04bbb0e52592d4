package scenario_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/drivers/usbsim/scenario"
	"github.com/drvsim/drvsim/drivers/usbsim/skel"
	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

var correct = []skel.Variant{skel.Classic, skel.Revocable}

// Scenario 8: the two correct skeletons pass exhaustive exploration of
// scenario 2 (within two preemptions per schedule; the counts are part of
// the expected outcome, so a change in the model's schedule points shows).
func TestMidReadExhaustive(t *testing.T) {
	want := map[skel.Variant]map[bool]int{
		skel.Classic:   {false: 77, true: 780},
		skel.Revocable: {false: 126, true: 1332},
	}
	for _, v := range correct {
		for _, feed := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/feed=%t", v, feed), func(t *testing.T) {
				m := &scenario.MidRead{Variant: v, Feed: feed}
				res := m.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, MaxPreemptions: 2, Schedules: 5000,
					Config: sim.Config{Test: t.Name()}})
				require.False(t, res.Failed(), "%s", res)
				assert.True(t, res.Exhausted)
				assert.Equal(t, want[v][feed], res.Schedules)
				t.Logf("%s feed=%t: %d schedules, all pass", v, feed, res.Schedules)
			})
		}
	}
}

// Scenario 8: the broken skeleton's use-after-free is found, by exhaustive
// search and by random exploration, and the report is KASAN's.
func TestBrokenFoundByExploration(t *testing.T) {
	for _, feed := range []bool{false, true} {
		m := &scenario.MidRead{Variant: skel.Broken, Feed: feed}
		res := m.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, MaxPreemptions: 2, Schedules: 5000})
		require.True(t, res.Failed())
		f := res.Failure.Failure
		assert.Equal(t, sim.BugUseAfterFree, f.Kind)
		assert.Contains(t, f.Details, "bulk_in_buffer")
		assert.Contains(t, f.Details, "Freed by task unplug")
		t.Logf("feed=%t: %s after %d schedules", feed, f.Title, res.Schedules)
	}
}

// The replay target of HuntUseAfterFree's hint: DRVSIM_SEED=<seed> replays
// the failing run.
func TestHuntUseAfterFree(t *testing.T) {
	seed, err := sim.SeedFromEnv(1)
	require.NoError(t, err)
	res := scenario.HuntUseAfterFree(skel.Broken, seed, 1000)
	require.True(t, res.Failed(), "no use-after-free in %d schedules", res.Schedules)
	assert.Equal(t, sim.BugUseAfterFree, res.Failure.Failure.Kind)
	assert.Contains(t, res.Failure.ReplayHint(), "go test -run '^TestHuntUseAfterFree$' ./drivers/usbsim/scenario")
	t.Log(res.Failure) // go test -v shows the run the seed replays

	// the seed replays the same failure
	again := scenario.HuntUseAfterFree(skel.Broken, res.Failure.Seed, 1)
	require.True(t, again.Failed())
	assert.Equal(t, res.Failure.Failure.Title, again.Failure.Failure.Title)
	assert.Equal(t, res.Failure.Schedule(), again.Failure.Schedule())
}

// Random exploration of the correct variants finds nothing.
func TestHuntCorrectVariants(t *testing.T) {
	for _, v := range correct {
		res := scenario.HuntUseAfterFree(v, 1, 300)
		require.False(t, res.Failed(), "%s", res)
	}
}

// The deterministic schedule of the docs and the demo: the reader blocks in
// its read, the unplug terminates its URB, waits (io mutex or grace period)
// for it, the next read returns -ENODEV, the last release frees the state.
func TestUnplugMidReadTrace(t *testing.T) {
	for _, v := range correct {
		t.Run(string(v), func(t *testing.T) {
			res, m := scenario.UnplugMidRead(v)
			require.False(t, res.Failed(), "%s", res)
			assert.ErrorIs(t, m.FirstErr, usbsim.ErrNoDevice)
			assert.ErrorIs(t, m.SecondErr, usbsim.ErrNoDevice)
			assert.ErrorIs(t, m.ReopenErr, chardev.ErrNoEntry)
			var got []string
			for _, e := range scenario.DemoEvents(res.Events) {
				switch {
				case e.Func == "usb_hcd_giveback_urb", e.Func == "skel_disconnect", e.Func == "vfs_read",
					e.Func == "__fput", e.Func == "skel_delete", e.Func == "revocable_provider_release",
					e.Kind == trace.Revoke, e.Func == "mutex_lock" && strings.Contains(e.Msg, "waiting"),
					e.Func == "schedule" && strings.Contains(e.Msg, "block"):
					got = append(got, fmt.Sprintf("[%s] %s", e.Task, e.Short()))
				}
			}
			want := map[skel.Variant][]string{
				skel.Classic: {
					"[reader] schedule: block usb_start_wait_urb urb 1 ep81 -> unplug",
					"[unplug] usb_hcd_giveback_urb /sys/devices/usb1/1-1: urb 1 ep81 status=-ESHUTDOWN actual=0",
					"[unplug] mutex_lock: io_mutex: waiting for reader",
					"[unplug] schedule: block mutex io_mutex -> reader",
					"[reader] vfs_read /dev/skel0: -ENODEV",
					"[reader] schedule: block remove uevent -> unplug",
					"[unplug] skel_disconnect /sys/devices/usb1/1-1/1-1:1.0: USB Skeleton #192 now disconnected",
					"[reader] vfs_read /dev/skel0: -ENODEV",
					"[reader] skel_delete /sys/devices/usb1/1-1: freeing bulk_in_buffer and struct usb_skel",
					"[reader] __fput /dev/skel0: release 0",
				},
				skel.Revocable: {
					"[reader] schedule: block usb_start_wait_urb urb 1 ep81 -> unplug",
					"[unplug] usb_hcd_giveback_urb /sys/devices/usb1/1-1: urb 1 ep81 status=-ESHUTDOWN actual=0",
					"[unplug] revocable_provider_revoke skel 1-1:1.0: start",
					"[unplug] schedule: block synchronize_srcu skel 1-1:1.0 -> reader",
					"[reader] vfs_read /dev/skel0: -ENODEV",
					"[reader] schedule: block remove uevent -> unplug",
					"[unplug] revocable_provider_revoke skel 1-1:1.0: grace period done",
					"[unplug] skel_disconnect /sys/devices/usb1/1-1/1-1:1.0: USB Skeleton #192 now disconnected",
					"[reader] vfs_read /dev/skel0: -ENODEV",
					"[reader] revocable_provider_release skel 1-1:1.0: released",
					"[reader] __fput /dev/skel0: release 0",
				},
			}
			assert.Equal(t, want[v], got)
		})
	}
}

// openRace is scenario 3 under sim: a process opens the device (and reads
// and releases) while it is unplugged. The open either fails with -ENODEV
// or succeeds and the file then works or reports -ENODEV; it never reaches
// freed state (the sanitizer would fail the run), and nothing leaks.
func openRace(v skel.Variant, rigs *[]*scenario.Rig) func(*sim.Sim) {
	return func(s *sim.Sim) {
		for _, r := range *rigs {
			r.Close()
		}
		*rigs = nil
		r, err := scenario.NewRig(v, drvsim.NewSystem(drvsim.OnSim(s)))
		if err != nil {
			panic(err)
		}
		*rigs = append(*rigs, r)
		if _, err := r.Plug(1, &usbsim.Counter{}); err != nil {
			panic(err)
		}
		s.Go("open", func() {
			f, err := r.OpenMinor(0)
			if err != nil {
				if !errors.Is(err, usbsim.ErrNoDevice) {
					panic(fmt.Sprintf("open: %v", err))
				}
				return
			}
			if _, err := f.Read(1); err != nil && !errors.Is(err, usbsim.ErrNoDevice) {
				panic(fmt.Sprintf("read: %v", err))
			}
			if err := f.Close(); err != nil {
				panic(err)
			}
		})
		s.Go("unplug", func() {
			if err := r.HCD.RootHub().Unplug(1); err != nil {
				panic(err)
			}
		})
	}
}

func TestOpenRacingUnplug(t *testing.T) {
	for _, v := range correct {
		t.Run(string(v), func(t *testing.T) {
			var rigs []*scenario.Rig
			defer func() {
				for _, r := range rigs {
					r.Close()
				}
			}()
			res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, MaxPreemptions: 2, Schedules: 5000}, openRace(v, &rigs))
			require.False(t, res.Failed(), "%s", res)
			assert.True(t, res.Exhausted)
			t.Logf("%s: %d schedules", v, res.Schedules)
		})
	}
}

// Scenario 7 under sim: usb_register_dev fails by fault injection after
// the devm actions; the run's leak check proves nothing is left.
func TestProbeFaultUnderSim(t *testing.T) {
	var rig *scenario.Rig
	defer func() { rig.Close() }()
	res := sim.Run(sim.Config{Faults: []sim.FaultRule{{Point: usbsim.FaultRegisterDev, Nth: 1}}}, func(s *sim.Sim) {
		var err error
		if rig, err = scenario.NewRig(skel.Revocable, drvsim.NewSystem(drvsim.OnSim(s))); err != nil {
			panic(err)
		}
		dev, err := rig.Plug(1, usbsim.NewLoopback(0))
		if err != nil {
			panic(err)
		}
		if dev.Interface(0).Dev().DriverName() != "" {
			panic("bound despite the fault")
		}
	})
	require.False(t, res.Failed(), "%s", res)
	assert.Contains(t, res.TraceText(), "usb_register_dev /sys/devices/usb1/1-1/1-1:1.0: injected fault")
	assert.Contains(t, res.TraceText(), "kfree: skel hw state")
}

func TestDemo(t *testing.T) {
	var b strings.Builder
	require.NoError(t, scenario.Demo(&b, 1))
	out := b.String()
	for _, s := range []string{
		"driver_bound /sys/devices/usb1/1-1/1-1:1.0: driver=skel-revocable: bound",
		"devm_add_action /sys/devices/usb1/1-1/1-1:1.0: revocable_provider_revoke skel 1-1:1.0",
		"[unplug] schedule: block synchronize_srcu skel 1-1:1.0 -> reader",
		"[reader] vfs_read /dev/skel0: -ENODEV",
		"[reader] __fput /dev/skel0: release 0",
		"BUG: KASAN: use-after-free",
	} {
		assert.Contains(t, out, s)
	}
}
