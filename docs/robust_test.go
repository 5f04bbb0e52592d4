package docs_test

import (
	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/trace"
)

// lifecycle.md, "Oops": the generators of the robustness sections,
// registered here so that the pages' generator table stays as it is.
func init() {
	generators["lifecycle-probe-oops"] = lifecycleProbeOops
}

type sensorRegs struct{ id uint32 }

// lifecycle.md, worked example 3: a probe that takes a devm action and
// then dereferences a nil pointer; the oops, the failed probe, the devres
// release, and the device left unbound.
func lifecycleProbeOops() (string, error) {
	sys := drvsim.NewSystem()
	defer sys.Close()
	drv := platform.NewDriver("sensor", func(dev *device.Device) error {
		if _, err := dev.Devres().Add("clk_disable", func() {}); err != nil {
			return err
		}
		var regs *sensorRegs // the driver forgot to map its registers
		if regs.id != 0x42 {
			return device.ErrNoDevice
		}
		return nil
	}, nil)
	if err := sys.RegisterDriver(drv); err != nil {
		return "", err
	}
	seq := sys.Log().Seq()
	if err := sys.RegisterDevice(sys.NewPlatformDevice("sensor")); err != nil {
		return "", err
	}
	return trace.Text(sys.Log().Since(seq)), nil
}
