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

func TestUSBUnplug(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, run(&buf))
	outcheck.RequireInOrder(t, buf.String(),
		// plugged: probe registers two devm actions and the minor
		"devm_add_action /sys/devices/usb1/1-1/1-1:1.0: skel_free_hw",
		"devm_add_action /sys/devices/usb1/1-1/1-1:1.0: revocable_provider_revoke skel 1-1:1.0",
		"devtmpfs_create_node /sys/devices/usb1/1-1/1-1:1.0/usbmisc/skel0: /dev/skel0 180:192",
		"usb_register_dev /sys/devices/usb1/1-1/1-1:1.0: skel0: minor 192",
		// opened and read
		"revocable_init skel 1-1:1.0: refs=2",
		"chrdev_open /dev/skel0: 0",
		`[process] say: process: read returned "hello"`,
		// unplugged mid-read
		"[process] schedule: block usb_start_wait_urb urb 3 ep81 -> khubd",
		"[khubd] usb_disconnect /sys/devices/usb1/1-1: USB disconnect, device number 2",
		"[khubd] usb_hcd_giveback_urb /sys/devices/usb1/1-1: urb 3 ep81 status=-ESHUTDOWN actual=0",
		"[khubd] usb_unbind_interface /sys/devices/usb1/1-1/1-1:1.0: driver->disconnect",
		"[khubd] usb_deregister_dev /sys/devices/usb1/1-1/1-1:1.0: skel0: minor 192",
		"[khubd] devtmpfs_delete_node /sys/devices/usb1/1-1/1-1:1.0/usbmisc/skel0: /dev/skel0",
		// disconnect revokes now (devm_release_action); the revoke waits for the reader
		"[khubd] devm_action_release /sys/devices/usb1/1-1/1-1:1.0: revocable_provider_revoke skel 1-1:1.0",
		"[khubd] schedule: block synchronize_srcu skel 1-1:1.0 -> process",
		"[process] vfs_read /dev/skel0: -ENODEV",
		"[process] say: process: the read in flight returned -ENODEV",
		"[khubd] synchronize_srcu skel 1-1:1.0: grace period 1 done",
		"[khubd] skel_disconnect /sys/devices/usb1/1-1/1-1:1.0: USB Skeleton #192 now disconnected",
		// only then does devres free the hardware state
		"[khubd] devm_action_release /sys/devices/usb1/1-1/1-1:1.0: skel_free_hw",
		"[khubd] kfree: bulk_in_buffer (object #2)",
		"[khubd] kfree: skel hw state (object #1)",
		"[khubd] do_filp_open /dev/skel0: -ENOENT",
		// the open file outlives the device
		"[process] vfs_read /dev/skel0: -ENODEV",
		"[process] vfs_ioctl /dev/skel0: cmd 0x5301: -ENODEV",
		"[process] revocable_deinit skel 1-1:1.0: refs=0",
		"[process] revocable_provider_release skel 1-1:1.0: released",
		"[process] __fput /dev/skel0: release 0",
		"drvsim: run passed (forced schedule, 43 steps, 0 preemptions, virtual time 0s)",
	)
}

// The output is the same on every run, byte for byte, and is
// testdata/output.golden, as go run prints it: docs/examples.md quotes it
// from there.
func TestUSBUnplugGolden(t *testing.T) {
	out := outcheck.AsProgram(outcheck.RunTwice(t, run), "usb-unplug")
	outcheck.Golden(t, filepath.Join("testdata", "output.golden"), out)
}
