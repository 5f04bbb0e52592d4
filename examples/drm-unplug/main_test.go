package main

import (
	"bytes"
	"path/filepath"
	"strings"
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

func TestDRMUnplug(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, run(&buf))
	outcheck.RequireInOrder(t, buf.String(),
		// probe
		"devm_add_action /sys/devices/platform/lcdc: devm_drm_dev_init_release card0",
		"devm_add_action /sys/devices/platform/lcdc: iounmap lcdc registers",
		"drmm_add_action /sys/devices/platform/lcdc/drm/card0: lcdc_mode_config_cleanup",
		"devtmpfs_create_node /sys/devices/platform/lcdc/drm/card0: /dev/dri/card0 226:0",
		"drm_minor_register /sys/devices/platform/lcdc/drm/card0: /dev/dri/card0",
		// the process: the file takes a reference, the flush reaches the panel
		"drm_dev_get /sys/devices/platform/lcdc/drm/card0: refs=2 (drm_minor_acquire)",
		"drm_open /sys/devices/platform/lcdc/drm/card0: file 1 opened",
		"chrdev_open /dev/dri/card0: 0",
		"drm_ioctl /sys/devices/platform/lcdc/drm/card0: file 1 DRM_IOCTL_VERSION ret=0",
		"lcdc_dirty /sys/devices/platform/lcdc/drm/card0: 4 lines sent to the panel",
		"drm_ioctl /sys/devices/platform/lcdc/drm/card0: file 1 DRM_IOCTL_MODE_DIRTYFB ret=0",
		"DRM_IOCTL_VERSION: lcdc 1.0.0 (example LCD controller); drm device refs=2",
		// unplug: drm_dev_unplug first, then devres newest first
		"drm_dev_unplug /sys/devices/platform/lcdc/drm/card0: unplugged, waiting for drm_dev_enter sections",
		"drm_dev_unplug /sys/devices/platform/lcdc/drm/card0: every drm_dev_enter section has ended",
		"drm_minor_unregister /sys/devices/platform/lcdc/drm/card0: /dev/dri/card0",
		"devtmpfs_delete_node /sys/devices/platform/lcdc/drm/card0: /dev/dri/card0",
		"devm_action_release /sys/devices/platform/lcdc: iounmap lcdc registers",
		"kfree: lcdc registers (object #2)",
		"devm_action_release /sys/devices/platform/lcdc: devm_drm_dev_init_release card0",
		"drm_dev_put /sys/devices/platform/lcdc/drm/card0: refs=1",
		"drm device: unplugged=true released=false refs=1 (the open file's)",
		// the open file after the unplug
		"drm_ioctl /sys/devices/platform/lcdc/drm/card0: file 1 DRM_IOCTL_MODE_DIRTYFB ret=-ENODEV",
		"drm_ioctl /sys/devices/platform/lcdc/drm/card0: file 1 DRM_IOCTL_VERSION ret=-ENODEV",
		"vfs_ioctl /dev/dri/card0: cmd 0x0: -ENODEV",
		"do_filp_open /dev/dri/card0: -ENOENT",
		"DIRTYFB: -ENODEV, VERSION: -ENODEV, a new open: -ENOENT",
		// the close releases the drm device; drmm actions run now
		"drm_release /sys/devices/platform/lcdc/drm/card0: file 1",
		"drm_dev_put /sys/devices/platform/lcdc/drm/card0: refs=0",
		"drm_dev_release /sys/devices/platform/lcdc/drm/card0: last reference dropped",
		"drm_managed_release /sys/devices/platform/lcdc/drm/card0: REL lcdc_mode_config_cleanup",
		"kfree: drm_device card0 (object #1)",
		"__fput /dev/dri/card0: release 0",
		"drm device released=true; sanitizer reports: 0; leaks: 0",
	)
	// The flush after the unplug never reached the driver.
	require.Equal(t, 1, strings.Count(buf.String(), "lines sent to the panel"))
}

// The output is the same on every run, byte for byte, and is
// testdata/output.golden, as go run prints it: docs/examples.md quotes it
// from there.
func TestDRMUnplugGolden(t *testing.T) {
	out := outcheck.AsProgram(outcheck.RunTwice(t, run), "drm-unplug")
	outcheck.Golden(t, filepath.Join("testdata", "output.golden"), out)
}
