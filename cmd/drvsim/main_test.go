package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	rc := run(args, strings.NewReader(""), &out, &errb)
	return rc, out.String(), errb.String()
}

func TestDefaultDemoTellsUnplugThenUseAfterFree(t *testing.T) {
	rc, out, _ := runCLI()
	require.Equal(t, 0, rc)
	for _, want := range []string{
		"really_probe /sys/devices/usb1/1-1/1-1:1.0: bus=usb driver=skel-revocable",
		"devm_add_action /sys/devices/usb1/1-1/1-1:1.0: revocable_provider_revoke",
		"vfs_read /dev/usb: skel0: -ENODEV",
		"BUG: KASAN: use-after-free",
		"replay: DRVSIM_SEED=",
	} {
		assert.Contains(t, out, want)
	}
	assert.Less(t, strings.Index(out, "skel-revocable"), strings.Index(out, "BUG: KASAN"), "the safe story comes first")
	_, again, _ := runCLI()
	assert.Equal(t, out, again, "the demo is deterministic")
}

func TestDemoListAndNamedDemos(t *testing.T) {
	rc, out, _ := runCLI("demo")
	require.Equal(t, 0, rc)
	assert.Contains(t, out, "usb-unplug")
	assert.Contains(t, out, "drm-unplug")

	rc, out, _ = runCLI("demo", "devres")
	require.Equal(t, 0, rc)
	assert.Less(t, strings.Index(out, "release /sys/devices/platform/serial0: iounmap"),
		strings.Index(out, "release /sys/devices/platform/serial0: clk_disable_unprepare"))

	rc, out, _ = runCLI("demo", "drm-unplug")
	require.Equal(t, 0, rc)
	assert.Contains(t, out, "drm_dev_unplug")

	rc, _, errs := runCLI("demo", "nope")
	assert.Equal(t, 2, rc)
	assert.Contains(t, errs, `no demo "nope"`)
}

func TestExploreMatchesPredictions(t *testing.T) {
	rc, out, _ := runCLI("explore", "merged-copied-provider")
	require.Equal(t, 0, rc, out)
	assert.Contains(t, out, "use-after-free in kref_get_unless_zero")
	assert.Contains(t, out, "as predicted")

	rc, out, _ = runCLI("explore", "drvsim-copied-provider")
	require.Equal(t, 0, rc, out)
	assert.Contains(t, out, "space exhausted, no failure")
}

func TestBadUsageIsStatusTwo(t *testing.T) {
	for _, args := range [][]string{{"nope"}, {"explore"}, {"explore", "no-such"}, {"explore", "-mode", "x", "drvsim-copied-provider"}, {"explore", "-bogus"}} {
		rc, _, errs := runCLI(args...)
		assert.Equal(t, 2, rc, args)
		assert.NotEmpty(t, errs, args)
	}
	rc, out, _ := runCLI("--help")
	assert.Equal(t, 0, rc)
	assert.Contains(t, out, "usage:")
}
