package scenario

import (
	"errors"
	"fmt"
	"strings"

	"github.com/drvsim/drvsim"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/drivers/drmsim"
	"github.com/drvsim/drvsim/drivers/drmsim/udlsim"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
)

// DemoSeed is the seed of the schedule UnplugDemo runs: one in which the
// unplug arrives while the flush is inside its drm_dev_enter section, so
// drm_dev_unplug waits for it; usb_disconnect has already marked the
// adapter gone, so the flush's URB submission fails and it returns
// -ENODEV.
const DemoSeed = 14

// DemoResult is what UnplugDemo observed.
type DemoResult struct {
	// Trace is the narrated trace: the demo's notes and the DRM, USB,
	// devres, revocable and memory events, one per line.
	Trace string
	// FlushErr is the result of the flush that raced the unplug (nil or
	// -ENODEV); AfterErrs the results of the ioctl (-ENODEV), the store
	// through the mapping (nil: drm_gem_shmem_fault maps the pages again)
	// and the open (-ENOENT: the node is gone) attempted after the unplug.
	FlushErr  error
	AfterErrs []error
	// UnplugWaited reports whether drm_dev_unplug had to wait for the
	// flush's section (a blocked grace period in the trace).
	UnplugWaited bool
	// Run is the underlying deterministic run.
	Run *sim.Result
}

// UnplugDemo is the "drm unplug" demo of the drvsim CLI: a DisplayLink
// adapter driven by the Classic udl driver is unplugged while a process
// flushes its framebuffer. It runs under the deterministic scheduler with
// DemoSeed, so the trace is the same on every run, and returns the
// narrated trace and what the process saw. An error means the run failed
// (which would be a bug).
func UnplugDemo() (*DemoResult, error) { return unplugDemo(DemoSeed) }

func unplugDemo(seed uint64) (*DemoResult, error) {
	out := &DemoResult{}
	var rig *Rig
	res := sim.Run(sim.Config{Seed: seed}, func(s *sim.Sim) {
		note := func(msg string) { s.Log().Emit(trace.Event{Kind: trace.Note, Func: "demo", Msg: msg}) }
		r, err := NewRig(udlsim.Classic, drvsim.NewSystem(drvsim.OnSim(s)))
		if err != nil {
			panic(err)
		}
		rig = r
		note("a DisplayLink adapter is plugged into port 1: udl binds, /dev/dri/card0 appears")
		if _, err := r.Plug(1); err != nil {
			panic(err)
		}
		note("a process opens /dev/dri/card0, creates a 16x2 dumb buffer and maps it")
		f, err := r.Class.Open("card0")
		if err != nil {
			panic(err)
		}
		cd := &drmsim.CreateDumbArgs{Width: 16, Height: 2, BPP: 32}
		md := &drmsim.MapDumbArgs{}
		if err := f.Ioctl(drmsim.IoctlCreateDumb, cd); err != nil {
			panic(err)
		}
		md.Handle = cd.Handle
		if err := f.Ioctl(drmsim.IoctlMapDumb, md); err != nil {
			panic(err)
		}
		m, err := f.Mmap(md.Offset)
		if err != nil {
			panic(err)
		}
		unplugged := false
		s.Go("process", func() {
			note("process: DRM_IOCTL_MODE_DIRTYFB, the flush: two bulk URBs inside drm_dev_enter/exit")
			out.FlushErr = f.Ioctl(drmsim.IoctlDirtyFB, &drmsim.DirtyFBArgs{Handle: cd.Handle})
			note("process: the flush returned " + device.ErrnoName(out.FlushErr))
			s.Block(sched.Wait{What: "remove uevent"}, func() bool { return unplugged })
			note("process: after the unplug: an ioctl, a store through the mapping, a new open")
			e1 := f.Ioctl(drmsim.IoctlVersion, &drmsim.VersionArgs{})
			e2 := m.Write(0, []byte{0xff})
			_, e3 := r.Class.Open("card0")
			out.AfterErrs = []error{e1, e2, e3}
			store := device.ErrnoName(e2)
			if e2 == nil {
				store += " (the buffer is shmem: the fault maps its pages again)"
			}
			note(fmt.Sprintf("process: they returned %s, %s, %s", device.ErrnoName(e1), store, device.ErrnoName(e3)))
			note("process: munmap and close: the last reference on the drm device goes, drmm actions run")
			m.Unmap()
			if err := f.Close(); err != nil {
				panic(err)
			}
		})
		s.Go("khubd", func() {
			note("khubd: the cable is pulled: usb_disconnect, udl's disconnect calls drm_dev_unplug")
			if err := r.Unplug(1); err != nil {
				panic(err)
			}
			note("khubd: unplug complete: devm actions of the interface have run, the drm device lives on")
			unplugged = true
		})
	})
	if rig != nil {
		rig.Close()
	}
	out.Run = res
	var b strings.Builder
	started := false
	for _, e := range res.Events {
		started = started || e.Kind == trace.Note
		if started && keepInDemo(e) {
			b.WriteString(e.String())
			b.WriteByte('\n')
		}
		if e.Kind == trace.Sched && strings.Contains(e.Msg, "block synchronize_srcu") {
			out.UnplugWaited = true
		}
	}
	out.Trace = b.String()
	if res.Failed() {
		return out, errors.New(res.String())
	}
	return out, nil
}

// keepInDemo selects the events the demo narrates: the notes, the DRM
// core, the USB driver and URB steps, devres releases, the revoke and its
// grace period, frees, and the unplug's wait.
func keepInDemo(e trace.Event) bool {
	switch e.Kind {
	case trace.Note, drmsim.KindDevice, drmsim.KindManaged, drmsim.KindFile, drmsim.KindIoctl, drmsim.KindGEM,
		usbsim.KindDriver, usbsim.KindURB, udlsim.Kind, trace.DevresRelease, trace.Revoke, trace.SRCU, trace.Warn:
		return true
	case usbsim.KindHub:
		return e.Func == "usb_disconnect" || e.Func == "hub_port_connect"
	case env.Mem:
		return e.Func == "kfree"
	case trace.Sched:
		return strings.Contains(e.Msg, "block synchronize_srcu")
	}
	return false
}
