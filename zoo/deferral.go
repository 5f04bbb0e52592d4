package zoo

import (
	"fmt"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/zoo/deferral"
)

func deferralRace() *Bug {
	b := &Bug{
		Name:      "deferral-race",
		Subsystem: "driver core, deferred probe",
		Commit:    "58b116bce13612e5aa6fcd49ecbd4cf8bb59e835",
		Subject:   "drivercore: deferral race condition fix",
		Author:    "Grant Likely, 2014-04",
		Report: "A device stays deferred though its dependency has bound: the sound card of a board " +
			"never appeared on a kernel with CONFIG_PREEMPT (Peter Ujfalusi's report).",
		Race: "T1 probes the sound card, finds its codec missing | T2 binds the codec: driver_bound " +
			"triggers the deferred probe, moving an empty pending list | T1's probe returns " +
			"-EPROBE_DEFER and the card goes on the pending list, where no trigger will come for it.",
		Fix: "A trigger counter: really_probe reads it before probing, and if it moved by the time " +
			"the device is on the pending list, triggers again.",
		Notes: "drvsim's own driver core has the fix; the package rebuilds the 2014 deferred-probe " +
			"code (lists, mutex, trigger, deferwq) to run the code of the time. The card's " +
			"never appearing is seen as a hang: the task waiting for it blocks forever.",
	}
	pair(b, "2014 driver core", [2]string{
		"A sound card defers while its codec binds: the codec's trigger comes before the card is on " +
			"the pending list, and the card is never retried; the task waiting for it hangs.",
		"The same race with the trigger counter: the card's really_probe sees the trigger it missed " +
			"and triggers again; every schedule binds the card.",
	}, sim.BugDeadlock, deferralRun)
	return b
}

// deferralRun is one run: a codec and a sound card whose probe needs the
// codec bound (-EPROBE_DEFER otherwise), on the 2014 driver core. Task
// "card" attaches the card's driver, task "codec" the codec's; task
// "udev" waits for the card to appear.
func deferralRun(s *sim.Sim, sys *drvsim.System, fixed bool) {
	v := deferral.Before
	if fixed {
		v = deferral.After
	}
	c, err := deferral.NewCore(sys, v)
	must(err)
	codec := c.NewDevice("codec", &deferral.Driver{Name: "wm8994", Probe: func(*deferral.Device) error { return nil }})
	card := c.NewDevice("sound", &deferral.Driver{Name: "snd-soc-card", Probe: func(*deferral.Device) error {
		if !codec.Bound() {
			return fmt.Errorf("snd-soc-card: codec wm8994 not ready: %w", device.ErrProbeDefer)
		}
		return nil
	}})
	s.Go("card", func() { c.Attach(card) })
	s.Go("codec", func() { c.Attach(codec) })
	s.Go("udev", func() {
		s.Block(sched.Wait{What: "sound card bound"}, card.Bound)
	})
}
