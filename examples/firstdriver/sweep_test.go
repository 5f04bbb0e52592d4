package main

import (
	"testing"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/sim"
)

// plugAndUnplug is the EC's life without a file: the module loaded, the
// EC plugged (its probe may fail: faults are injected), the EC unplugged
// and the module unloaded. A run fails if anything is left allocated at
// its end.
func plugAndUnplug(s *sim.Sim) {
	sys := drvsim.NewSystem(drvsim.OnSim(s))
	m, err := ecInit(sys)
	if err != nil {
		return // a fault in the module's init: nothing to undo, init undid it
	}
	dev, err := plugEC(sys, "ec.0", ecFirmware, 17)
	if err != nil {
		panic(err) // a failed probe is no error of device_add
	}
	s.Go("unplug", func() {
		if err := sys.UnregisterDevice(dev); err != nil {
			panic(err)
		}
		if err := m.exit(sys); err != nil {
			panic(err)
		}
	})
}

// TestProbeFaultSweep fails every fault point of plugAndUnplug once, in
// turn (the n-th devm_add_action, request_irq, ...): whatever step of the
// probe fails, devres undoes the steps before it and nothing leaks.
func TestProbeFaultSweep(t *testing.T) {
	sw := sim.SweepFaults(sim.EnvConfig(t.Name(), 0), plugAndUnplug)
	if sw.Failed() || len(sw.Runs) == 0 {
		t.Fatal(sw)
	}
	t.Log(sw)
}
