package main

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim/examples/internal/outcheck"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

func TestPlatformDriver(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, run(&buf))
	out := buf.String()

	// Probe, then unbind: remove first, then the devm actions newest first.
	outcheck.RequireInOrder(t, out,
		"devm_add_action /sys/devices/platform/tmp102.0: clk_disable_unprepare",
		"devm_add_action /sys/devices/platform/tmp102.0: regulator_disable vdd",
		"devm_add_action /sys/devices/platform/tmp102.0: free_irq 42",
		"driver_bound /sys/devices/platform/tmp102.0: driver=tmp102: bound",
		"unbind_store /sys/devices/platform/tmp102.0: driver=tmp102",
		"tmp102_remove /sys/devices/platform/tmp102.0: irq 42 still requested: devres frees it next",
		"devres_release_all /sys/devices/platform/tmp102.0: 3 actions",
		"devm_action_release /sys/devices/platform/tmp102.0: free_irq 42",
		"devm_action_release /sys/devices/platform/tmp102.0: regulator_disable vdd",
		"devm_action_release /sys/devices/platform/tmp102.0: clk_disable_unprepare",
		"state=added devres=[]",
	)

	// The failed probe: two actions, released newest first, no bind.
	outcheck.RequireInOrder(t, out,
		"devm_add_action /sys/devices/platform/tmp102.1: clk_disable_unprepare",
		"devm_add_action /sys/devices/platform/tmp102.1: regulator_disable vdd",
		"tmp102_probe /sys/devices/platform/tmp102.1: unexpected chip id 0x00",
		"call_driver_probe /sys/devices/platform/tmp102.1: driver=tmp102 ret=-EIO: probe failed",
		"devres_release_all /sys/devices/platform/tmp102.1: 2 actions",
		"devm_action_release /sys/devices/platform/tmp102.1: regulator_disable vdd",
		"devm_action_release /sys/devices/platform/tmp102.1: clk_disable_unprepare",
		`state=added driver="" devres=[]`,
	)
	require.NotContains(t, out, "driver_bound /sys/devices/platform/tmp102.1")
	require.NotContains(t, out, "devm_add_action /sys/devices/platform/tmp102.1: free_irq 42")

	// Device removal: device_del unbinds, with the same LIFO release.
	outcheck.RequireInOrder(t, out,
		"device_del /sys/devices/platform/tmp102.0",
		"tmp102_remove /sys/devices/platform/tmp102.0: irq 42 still requested: devres frees it next",
		"devm_action_release /sys/devices/platform/tmp102.0: free_irq 42",
		"devm_action_release /sys/devices/platform/tmp102.0: regulator_disable vdd",
		"devm_action_release /sys/devices/platform/tmp102.0: clk_disable_unprepare",
		"kobject_uevent /sys/devices/platform/tmp102.0: remove MODALIAS=platform:tmp102",
		"device_release /sys/devices/platform/tmp102.0",
		"board: clock users 0, regulator users 0, irqs requested 0",
	)
}

// The output is the same on every run, byte for byte, and is
// testdata/output.golden, as go run prints it: docs/examples.md quotes it
// from there.
func TestPlatformDriverGolden(t *testing.T) {
	out := outcheck.AsProgram(outcheck.RunTwice(t, run), "platform-driver")
	outcheck.Golden(t, filepath.Join("testdata", "output.golden"), out)
}
