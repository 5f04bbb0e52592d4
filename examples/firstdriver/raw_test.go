package main

import (
	"errors"
	"fmt"
	"testing"

	"github.com/drvsim/drvsim"

	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/sim"
)

// rawFileOps are ecFileOps as a driver without revocable would write
// them: the file keeps the EC itself, and read checks that the device
// still has its driver before each command. No plain test fails with
// them: the check works whenever the unbind is entirely before or
// entirely after the read.
func rawFileOps(e *ec) *chardev.FileOperations {
	return &chardev.FileOperations{
		Read: func(f *chardev.File, n int) ([]byte, error) {
			if e.dev.Drvdata() == nil {
				return nil, fmt.Errorf("ec_read: %w", chardev.ErrNoDevice)
			}
			answer, err := e.command("TEMP")
			return []byte(answer)[:min(n, len(answer))], err
		},
	}
}

// rawProbe is probe with rawFileOps: the same hardware set-up, no
// provider.
func (m *ecModule) rawProbe(pdev *device.Device) error {
	e, err := ecSetup(pdev)
	if err != nil {
		return err
	}
	return m.addCdev(pdev, rawFileOps(e))
}

// rawReadVsUnbind is readVsUnbind with the driver's probe replaced by
// rawProbe before the EC is plugged.
func rawReadVsUnbind(s *sim.Sim) {
	sys := drvsim.NewSystem(drvsim.OnSim(s))
	m, err := ecInit(sys)
	if err != nil {
		panic(err)
	}
	m.drv.Probe = m.rawProbe // the driver written without revocable
	dev, err := plugEC(sys, "ec.0", ecFirmware, 17)
	if err != nil {
		panic(err)
	}
	f, err := chardev.Open(sys, "/dev/ec0")
	if err != nil {
		panic(err)
	}
	s.Go("read", func() {
		_, err := f.Read(16)
		if err != nil && !errors.Is(err, chardev.ErrNoDevice) && !errors.Is(err, device.ErrTimedOut) {
			panic(err) // -ETIMEDOUT too: the unbind may free the interrupt under the read
		}
		if err := f.Close(); err != nil {
			panic(err)
		}
	})
	s.Go("unbind", func() {
		if err := sys.Unbind(dev); err != nil {
			panic(err)
		}
	})
}

// TestRawFileOpsCaught: the exhaustive search of TestReadVsUnbind, on the
// driver without revocable, finds the use-after-free: a read that passed
// its check uses the registers the unbind has unmapped meanwhile. The
// recorded schedule replays the same report.
func TestRawFileOpsCaught(t *testing.T) {
	cfg := sim.ExploreConfig{Mode: sim.Exhaustive, MaxPreemptions: 3, Schedules: 10000, Config: sim.EnvConfig(t.Name(), 1)}
	res := sim.Explore(cfg, rawReadVsUnbind)
	if !res.Failed() || res.Failure.Failure.Kind != sim.BugUseAfterFree {
		t.Fatalf("want a use-after-free, got:\n%s", res)
	}
	t.Log(res)
	again := sim.Run(sim.Config{Replay: res.Failure.Schedule(), Test: t.Name()}, rawReadVsUnbind)
	if again.String() != res.Failure.String() {
		t.Errorf("the replay differs:\n%s\nfirst run:\n%s", again, res.Failure)
	}
}
