package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/examples/internal/outcheck"
	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
)

// This file holds the example's own tests, which keep the outputs that
// docs/tutorial.md quotes in testdata/*.golden; race_test.go and the
// other files are the tutorial's program.

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

// TestRun runs the program as go run ./examples/firstdriver does: its
// output is testdata/output.golden, the same on every run, and tells the
// story of the tutorial in order.
func TestRun(t *testing.T) {
	out := outcheck.RunTwice(t, run)
	outcheck.Golden(t, filepath.Join("testdata", "output.golden"), out)
	outcheck.RequireInOrder(t, out,
		"alloc_chrdev_region: \"ec\" 254:0",
		"class_register /sys/class/ec",
		"driver_register /sys/bus/platform/drivers/ec",
		// ec.0: every acquisition followed by its undo's registration
		"kmalloc: ec.0 registers (object #1)",
		"devm_add_action /sys/devices/platform/ec.0: iounmap",
		"devm_request_irq: irq 17 ec",
		"devm_add_action /sys/devices/platform/ec.0: devm_irq_release 17 ec",
		"devm_add_action /sys/devices/platform/ec.0: revocable_provider_revoke ec.0",
		"cdev_add: 254:0",
		"devm_add_action /sys/devices/platform/ec.0: cdev_del",
		"devtmpfs_create_node /sys/devices/platform/ec.0/ec/ec0: /dev/ec0 254:0",
		"devm_add_action /sys/devices/platform/ec.0: device_destroy",
		"driver_bound /sys/devices/platform/ec.0: driver=ec: bound",
		// ec.1: the firmware check fails, devres unmaps
		"call_driver_probe /sys/devices/platform/ec.1: driver=ec ret=-ENODEV: rejects match (not mine)",
		"devm_action_release /sys/devices/platform/ec.1: iounmap",
		// the read: the interrupt answers the command
		"== open /dev/ec0, read: \"42\\n\" <nil>",
		"handle_irq_event: irq 17 ec",
		// the unbind: newest first, the node before the numbers, the
		// revoke before the interrupt, the interrupt before the registers
		"devm_action_release /sys/devices/platform/ec.0: device_destroy",
		"devtmpfs_delete_node /sys/devices/platform/ec.0/ec/ec0: /dev/ec0",
		"cdev_del: 254:0, 1 file reference(s) left",
		"revocable_provider_revoke ec.0: grace period done",
		"free_irq: irq 17 ec",
		"kfree: ec.0 registers (object #1)",
		"== read: ec_read: no such device (-ENODEV)",
		"== open: open /dev/ec0: no such entry (-ENOENT)",
		"revocable_provider_release ec.0: released",
		"kfree: struct cdev (object #2)",
		"unregister_chrdev_region: \"ec\" 254:0",
		"leaks: 0, reports: 0",
	)
}

// The firmware check: an EC whose VERSION register does not read
// ecFirmware is refused with -ENODEV, and nothing of the probe is left.
func TestProbeRefusesUnknownFirmware(t *testing.T) {
	sys := drvsim.NewSystem()
	defer sys.Close()
	_, err := ecInit(sys)
	require.NoError(t, err)
	dev, err := plugEC(sys, "ec.0", "ec-1.0", 17)
	require.NoError(t, err)
	assert.Nil(t, dev.Driver())
	assert.Empty(t, sys.Memory().Live())
	_, err = chardev.Open(sys, "/dev/ec0")
	assert.ErrorIs(t, err, chardev.ErrNoEntry)
}

// raceReport is what the docs quote of the tests on the simulator: the
// exhaustive search of TestReadVsUnbind, one run in which the unbind
// waits for the read, the failure TestRawFileOpsCaught finds (all in
// tutorial.md), and the fault sweep of TestProbeFaultSweep (testing.md).
func raceReport(w io.Writer) error {
	cfg := sim.ExploreConfig{Mode: sim.Exhaustive, MaxPreemptions: 3, Schedules: 10000,
		Config: sim.Config{Test: "TestReadVsUnbind", Pkg: "./examples/firstdriver"}}
	res := sim.Explore(cfg, readVsUnbind)
	fmt.Fprintf(w, "== TestReadVsUnbind\n%s", res)
	if res.Failed() || !res.Exhausted {
		return fmt.Errorf("readVsUnbind: %s", res)
	}

	waits, err := unbindWaitsForRead()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "== a run in which the unbind waits for the read\n%s\n%s", strings.TrimSpace(waits.String()), waits.TraceText())

	cfg.Test = "TestRawFileOpsCaught"
	res = sim.Explore(cfg, rawReadVsUnbind)
	fmt.Fprintf(w, "== TestRawFileOpsCaught\n%s", res)
	if !res.Failed() || res.Failure.Failure.Kind != sim.BugUseAfterFree {
		return fmt.Errorf("rawReadVsUnbind: want a use-after-free, got %s", res)
	}

	sw := sim.SweepFaults(sim.Config{Test: "TestProbeFaultSweep", Pkg: "./examples/firstdriver"}, plugAndUnplug)
	fmt.Fprintf(w, "== TestProbeFaultSweep\n%s", sw)
	if sw.Failed() {
		return fmt.Errorf("plugAndUnplug: %s", sw)
	}
	return nil
}

// unbindWaitsForRead returns the first random run of readVsUnbind, from
// seed 1, in which the unbind blocks in the revoke's grace period while
// the read is inside the EC.
func unbindWaitsForRead() (*sim.Result, error) {
	for seed := uint64(1); seed <= 1000; seed++ {
		res := sim.Run(sim.Config{Seed: seed}, readVsUnbind)
		if res.Failed() {
			return nil, fmt.Errorf("seed %d: %s", seed, res)
		}
		for _, e := range res.Events {
			if e.Task == "unbind" && e.Kind == trace.Sched && strings.HasPrefix(e.Msg, "block synchronize_srcu") {
				return res, nil
			}
		}
	}
	return nil, fmt.Errorf("no run from seed 1 to 1000 in which the unbind waits for the read")
}

// TestRaceReport keeps testdata/race.golden, which the tutorial quotes:
// the outputs of the race tests, the same on every run.
func TestRaceReport(t *testing.T) {
	out := outcheck.RunTwice(t, raceReport)
	outcheck.Golden(t, filepath.Join("testdata", "race.golden"), outcheck.AsProgram(out, "firstdriver"))
	outcheck.RequireInOrder(t, out,
		"== TestReadVsUnbind",
		"== a run in which the unbind waits for the read",
		"[unbind] synchronize_srcu ec.0: grace period 1 start",
		"[unbind] synchronize_srcu ec.0: grace period 1 done",
		"[unbind] free_irq: irq 17 ec",
		"[unbind] kfree: ec.0 registers (object #1)",
		"== TestRawFileOpsCaught",
		"BUG: KASAN: use-after-free in readl DATA",
		"== TestProbeFaultSweep",
		"fault sweep: 7 runs, 0 failed",
	)
	assert.Regexp(t, `explore \(exhaustive\): \d+ schedules, space exhausted, no failure\n`, out)
	assert.Regexp(t, `replay: DRVSIM_SCHEDULE=\S+ go test -run '\^TestRawFileOpsCaught\$' ./examples/firstdriver\n`, out)
}
