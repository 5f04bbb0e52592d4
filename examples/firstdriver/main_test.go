package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim/examples/internal/outcheck"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

// output runs the given step as "go run ./examples/firstdriver N" would,
// and checks that its output, as go run prints it, is
// testdata/stepN.golden: docs/tutorial.md quotes it from there.
// (TestDeterministic checks that it is the same on every run.)
func output(t *testing.T, step string) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, run([]string{step}, &b))
	outcheck.Golden(t, filepath.Join("testdata", "step"+step+".golden"), outcheck.AsProgram(b.String(), "firstdriver"))
	return b.String()
}

func TestStep1PlatformDriver(t *testing.T) {
	out := output(t, "1")
	assert.Contains(t, out, "ec.0: state=bound driver=ec\n")
	assert.Contains(t, out, "ec.0: state=removed\n")
	// probe runs inside really_probe, before the device is bound
	assert.Regexp(t, `(?s)really_probe /sys/devices/platform/ec.0: bus=platform driver=ec\n.*`+
		`ec_probe /sys/devices/platform/ec.0: hello\n.*`+
		`driver_bound /sys/devices/platform/ec.0: driver=ec: bound\n`, out)
	// remove runs inside __device_release_driver, before devres
	assert.Regexp(t, `(?s)__device_release_driver .*ec_remove /sys/devices/platform/ec.0: goodbye\n.*`+
		`devres_release_all /sys/devices/platform/ec.0: 0 actions\n.*device_release /sys/devices/platform/ec.0\n$`, out)
}

func TestStep2Devm(t *testing.T) {
	out := output(t, "2")
	assert.Contains(t, out, "ec.0: state=bound driver=\"ec\"\n")
	assert.Contains(t, out, "ec.1: state=added driver=\"\"\n")
	assert.Contains(t, out, "left on: clock users=0 irqs=0 mapped=0\n")
	// the failed probe, then the unbind: newest action first both times
	for _, dev := range []string{"ec.1", "ec.0"} {
		assert.Regexp(t, `(?s)devres_release_all /sys/devices/platform/`+dev+`: 3 actions\n.*`+
			`iounmap\n.*kfree: `+dev+` registers.*free_irq\n.*clk_disable_unprepare\n`, out)
	}
	assert.Contains(t, out, "call_driver_probe /sys/devices/platform/ec.1: driver=ec ret=-EIO: probe failed\n")
}

func TestStep3Revocable(t *testing.T) {
	out := output(t, "3")
	assert.Contains(t, out, `read: "version: ok", <nil>`)
	assert.Contains(t, out, `read in flight: "status: ok", <nil>`)
	// the revoke waits for the reader, and the registers go after it
	assert.Regexp(t, `(?s)synchronize_srcu ec.0: grace period 1 start\n.*`+
		`reader: the EC answered; leaving the read section\n.*`+
		`synchronize_srcu ec.0: grace period 1 done\n.*`+
		`devm_action_release /sys/devices/platform/ec.0: iounmap\n.*kfree: ec.0 registers`, out)
	assert.Contains(t, out, "read after unbind: read status: no such device (-ENODEV)\n")
	assert.Contains(t, out, "open after unbind: open ec.0: no such device (-ENODEV)\n")
	assert.Contains(t, out, "before close: provider refs=1 released=false\n")
	assert.Contains(t, out, "after close: provider refs=0 released=true\n")
}

func TestStep4RaceTest(t *testing.T) {
	out := output(t, "4")
	assert.Regexp(t, `revocable file: explore \(exhaustive\): \d+ schedules, space exhausted, no failure\n`, out)
	assert.Regexp(t, `raw file: explore \(exhaustive\): \d+ schedules, failure found in schedule \d+\n`, out)
	assert.Contains(t, out, "BUG: KASAN: use-after-free in ec_xfer read status\n")
	assert.Contains(t, out, "to freed object ec.0 registers (object #1) by task read")
	assert.Contains(t, out, "Freed by task unbind")
	assert.Regexp(t, `replay: DRVSIM_SCHEDULE=\S+ go test -run '\^TestReadVsUnbindRawPointer\$' ./examples/firstdriver\n`, out)
	assert.Regexp(t, `replay: DRVSIM_SEED=\d+ go test -run '\^TestReadVsUnbindRawPointerRandom\$' ./examples/firstdriver\n`, out)
}

func TestAllStepsAndUsage(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, run(nil, &b))
	for _, h := range []string{"== step 1: ", "== step 2: ", "== step 3: ", "== step 4: "} {
		assert.Equal(t, 1, strings.Count(b.String(), h), h)
	}
	assert.Error(t, run([]string{"5"}, &b))
	assert.Error(t, run([]string{"1", "2"}, &b))
}

// The output is the same on every run, byte for byte: the tutorial quotes it.
func TestDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	require.NoError(t, run(nil, &a))
	require.NoError(t, run(nil, &b))
	assert.Equal(t, a.String(), b.String())
}
