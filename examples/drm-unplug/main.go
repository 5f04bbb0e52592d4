// Command drm-unplug is a minimal DRM driver whose device goes away while a
// process still has /dev/dri/card0 open.
//
// The driver ("lcdc", a small LCD controller on the platform bus) does what
// a hot-unpluggable DRM driver must:
//
//   - probe: devm_drm_dev_alloc (the drm device, one reference handed to
//     devres), devm_ioremap of its registers, a drmm action for its modeset
//     state, drm_dev_register;
//   - the hardware path (the framebuffer flush behind
//     DRM_IOCTL_MODE_DIRTYFB) runs inside drm_dev_enter/drm_dev_exit;
//   - remove: drm_dev_unplug.
//
// Then a process opens card0, asks for the driver's version, creates a
// buffer and flushes it. The device goes away (device_unregister, what a
// hot-unplug of the controller does): drm_dev_unplug, then devres unmaps
// the registers and drops the devm reference. The open file still holds a
// reference, so the drm device lives on: its ioctls fail with -ENODEV, a
// new open finds no /dev/dri/card0 (-ENOENT), and only its close releases
// the drm device and runs the drmm actions, long after every devm action.
//
// Run it with:
//
//	go run ./examples/drm-unplug
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/drivers/drmsim"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/trace"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// lcdc is the driver's state for one controller.
type lcdc struct {
	drm *drmsim.Device
	// regs stands for the ioremap'ed registers: a simulated allocation,
	// so a write after iounmap would be reported, KASAN style.
	regs *env.Object
}

// drmDriver is struct drm_driver: what DRM_IOCTL_VERSION reports, and the
// framebuffer's dirty callback, the one path that touches the hardware.
var drmDriver = &drmsim.Driver{
	Name: "lcdc", Desc: "example LCD controller", Major: 1, Minor: 0,
	Dirty: lcdcDirty,
}

// lcdcDirty flushes a damaged region of a buffer to the screen.
func lcdcDirty(f *drmsim.File, bo *drmsim.GEMObject, clip drmsim.Rect) error {
	drm := f.Device()
	// drm_dev_enter: refused once the device is unplugged; while we are
	// inside, drm_dev_unplug waits for us, so the registers stay mapped.
	idx, ok := drm.Enter()
	if !ok {
		return fmt.Errorf("lcdc flush: %w", drmsim.ErrNoDevice)
	}
	defer drm.Exit(idx) // drm_dev_exit

	lc := drm.Private().(*lcdc)
	_ = bo.Bytes("lcdc: read the damaged lines")
	lc.regs.Access("lcdc: write scanout registers")
	drm.Log().Emit(trace.Event{Kind: trace.Note, Dev: drm.Path(), Func: "lcdc_dirty",
		Msg: fmt.Sprintf("%d lines sent to the panel", bo.Height())})
	return nil
}

func run(w io.Writer) error {
	sys := drvsim.NewSystem()
	defer sys.Close()

	// drm_core_init: the DRM core of this machine. Its allocations (drm
	// device, files, buffers) come from a checked arena, as do ours.
	class := drmsim.NewClass(sys)
	mem := class.Memory()

	probe := func(dev *device.Device) error {
		// devm_drm_dev_alloc: the drm device, with its parent's
		// reference handed to devres (drm_dev_put at unbind).
		drm, err := drmsim.DevmDevAlloc(class, drmDriver, dev)
		if err != nil {
			return err
		}
		lc := &lcdc{drm: drm}
		drm.SetPrivate(lc)

		// devm_ioremap: the registers, unmapped by devres at unbind.
		lc.regs = mem.Alloc("lcdc registers")
		if _, err := dev.Devres().AddOrReset("iounmap lcdc registers", lc.regs.Free); err != nil {
			return err
		}

		// drmm_add_action: modeset state lives as long as the drm
		// device, which may be longer than the binding.
		if err := drm.AddActionOrReset("lcdc_mode_config_cleanup", func() {}); err != nil {
			return err
		}

		dev.SetDrvdata(lc)
		return drm.Register() // drm_dev_register: /dev/dri/card0 appears
	}
	remove := func(dev *device.Device) {
		// drm_dev_unplug: new drm_dev_enter sections are refused, the
		// ones in progress are waited for, card0 disappears.
		dev.Drvdata().(*lcdc).drm.Unplug()
	}
	if err := sys.RegisterDriver(platform.NewDriver("lcdc", probe, remove)); err != nil {
		return err
	}

	// show prints the DRM, file, /dev node, devres and memory events
	// since the last call.
	var seen uint64
	show := func(title string) {
		fmt.Fprintf(w, "\n== %s\n", title)
		for _, e := range sys.Log().Since(seen) {
			switch {
			case e.Func == "devtmpfs_create_node", e.Func == "devtmpfs_delete_node":
				fmt.Fprintln(w, e)
			}
			switch e.Kind {
			case drmsim.KindDevice, drmsim.KindManaged, drmsim.KindFile, drmsim.KindIoctl, drmsim.KindGEM,
				chardev.Kind, trace.DevresAdd, trace.DevresRelease, env.Mem, trace.Revoke, trace.SRCU, trace.Note:
				fmt.Fprintln(w, e)
			}
		}
		seen = sys.Log().Seq()
	}

	// 1. The controller appears and binds.
	dev := sys.NewPlatformDevice("lcdc")
	if err := sys.RegisterDevice(dev); err != nil {
		return err
	}
	show("device_register lcdc: probe allocates and registers card0")
	drm := dev.Drvdata().(*lcdc).drm

	// 2. A process opens card0 and uses it.
	f, err := class.Open("card0")
	if err != nil {
		return err
	}
	ver := &drmsim.VersionArgs{}
	if err := f.Ioctl(drmsim.IoctlVersion, ver); err != nil {
		return err
	}
	cd := &drmsim.CreateDumbArgs{Width: 64, Height: 4, BPP: 32}
	if err := f.Ioctl(drmsim.IoctlCreateDumb, cd); err != nil {
		return err
	}
	if err := f.Ioctl(drmsim.IoctlDirtyFB, &drmsim.DirtyFBArgs{Handle: cd.Handle}); err != nil {
		return err
	}
	show("a process opens /dev/dri/card0: version, a dumb buffer, a flush")
	fmt.Fprintf(w, "DRM_IOCTL_VERSION: %s %d.%d.%d (%s); drm device refs=%d\n",
		ver.Name, ver.Major, ver.Minor, ver.Patchlevel, ver.Desc, drm.Refs())

	// 3. The controller goes away, with the file still open.
	if err := sys.UnregisterDevice(dev); err != nil {
		return err
	}
	show("device_unregister lcdc: remove unplugs, devres unmaps and drops the devm reference")
	fmt.Fprintf(w, "drm device: unplugged=%t released=%t refs=%d (the open file's)\n",
		drm.Unplugged(), drm.Released(), drm.Refs())

	// 4. The file still works, in the sense that every call answers:
	//    -ENODEV. The node is gone: a new open gets -ENOENT.
	errFlush := f.Ioctl(drmsim.IoctlDirtyFB, &drmsim.DirtyFBArgs{Handle: cd.Handle})
	errVersion := f.Ioctl(drmsim.IoctlVersion, ver)
	_, errOpen := class.Open("card0")
	show("the open file after the unplug")
	fmt.Fprintf(w, "DIRTYFB: %s, VERSION: %s, a new open: %s\n",
		device.ErrnoName(errFlush), device.ErrnoName(errVersion), device.ErrnoName(errOpen))
	for _, err := range []error{errFlush, errVersion} {
		if !errors.Is(err, drmsim.ErrNoDevice) {
			return fmt.Errorf("drm-unplug: after the unplug: want -ENODEV, got %v", err)
		}
	}
	if !errors.Is(errOpen, drmsim.ErrNoEntry) {
		return fmt.Errorf("drm-unplug: open after the unplug: want -ENOENT, got %v", errOpen)
	}

	// 5. close(2): the last reference; the drm device and its drmm
	//    actions go now.
	if err := f.Close(); err != nil {
		return err
	}
	show("close: drm_release, the last drm_dev_put, drmm actions run")
	fmt.Fprintf(w, "drm device released=%t; sanitizer reports: %d; leaks: %d\n",
		drm.Released(), len(mem.Reports()), len(mem.Leaks()))
	if !drm.Released() || len(mem.Reports()) > 0 || len(mem.Leaks()) > 0 {
		return errors.New("drm-unplug: the drm device was not cleanly released")
	}
	return nil
}
