package scenario

import (
	"errors"
	"fmt"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/pm"
	"github.com/drvsim/drvsim/sim"
)

// usbRig is a machine with a USB host controller (a one-port root hub)
// and the "modem" interface driver bound to the device on port 1: it
// supports autosuspend, and its I/O path holds the device with
// usb_autopm_get_interface under its io mutex, refusing I/O once its
// disconnect has run (the usb-skeleton's pattern).
type usbRig struct {
	sys  *drvsim.System
	usb  *usbsim.USB
	hcd  *usbsim.HCD
	dev  *usbsim.Device
	intf *usbsim.Interface
	m    *modem
}

// modem is the driver's state.
type modem struct {
	io       *kernel.Mutex
	gone     bool
	suspends int
	resumes  int
}

func newUSBRig(s *sim.Sim, o *drvsim.Runs) *usbRig {
	sys := o.System(s)
	u, err := usbsim.Init(sys)
	if err != nil {
		panic(err)
	}
	h, err := u.AddHCD(1)
	if err != nil {
		panic(err)
	}
	m := &modem{io: kernel.NewMutex(sys, "modem io_mutex")}
	drv := &usbsim.Driver{
		Name:                "modem",
		IDTable:             []usbsim.DeviceID{usbsim.ID(0x1234, 0x5678)},
		SupportsAutosuspend: true,
		Probe:               func(*usbsim.Interface, usbsim.DeviceID) error { return nil },
		Disconnect: func(*usbsim.Interface) {
			m.io.Lock()
			m.gone = true
			m.io.Unlock()
		},
		Suspend: func(*usbsim.Interface) error { m.suspends++; return nil },
		Resume:  func(*usbsim.Interface) error { m.resumes++; return nil },
	}
	if err := u.Register(drv); err != nil {
		panic(err)
	}
	dev, err := h.RootHub().Plug(1, usbsim.BulkGadget(0x1234, 0x5678, 64, nil))
	if err != nil {
		panic(err)
	}
	return &usbRig{sys: sys, usb: u, hcd: h, dev: dev, intf: dev.Interface(0), m: m}
}

// io is the driver's I/O path (its write or ioctl): under the io mutex,
// refused once disconnected, the device held with
// usb_autopm_get_interface for the transfer.
func (r *usbRig) io() error {
	m := r.m
	m.io.Lock()
	defer m.io.Unlock()
	if m.gone {
		return fmt.Errorf("modem: disconnected: %w", usbsim.ErrNoDevice)
	}
	if err := r.intf.AutopmGetInterface(); err != nil {
		return err
	}
	defer func() { _ = r.intf.AutopmPutInterface() }()
	if st := r.dev.State(); st != usbsim.StateConfigured && st != usbsim.StateNotAttached {
		return fmt.Errorf("modem: I/O with the device %s", st)
	}
	return nil
}

// released reports what is wrong with the machine once the device is
// gone: the usb_device and its interface must have been released.
func (r *usbRig) released() []string {
	var bad []string
	if r.dev.Dev().Refs() != 0 || r.intf.Dev().Refs() != 0 {
		bad = append(bad, fmt.Sprintf("references left: usb_device %d, interface %d", r.dev.Dev().Refs(), r.intf.Dev().Refs()))
	}
	return bad
}

// The endings of the runtime-resume-vs-unplug scenario.
const (
	// IOThenUnplug: the I/O held the device, done before the disconnect.
	IOThenUnplug = "I/O done, then unplugged"
	// IOAutoresumeFailed: the cable was pulled first; the autoresume of
	// the suspended device failed (usb_resume_both: -ENODEV; the interface
	// then finds its parent not active: -EBUSY) and the I/O was refused.
	IOAutoresumeFailed = "autoresume failed: the device is gone"
	// IORefused: the driver's disconnect had run; the I/O was refused
	// without touching the device.
	IORefused = "I/O refused: driver disconnected"
)

// RuntimeResumeVsUnplug is an autoresume racing a hot-unplug. The modem
// is bound and autosuspended during setup (autosuspend allowed, delay 0);
// the "io" task writes to it (usb_autopm_get_interface resumes the
// device), the "unplug" task pulls its cable (usb_disconnect). Every run
// ends with the device gone and released and the I/O done or refused:
// done before the disconnect, refused by the driver after it, or refused
// because the resume found the device gone.
func RuntimeResumeVsUnplug(o *drvsim.Runs) func(*sim.Sim) {
	return func(s *sim.Sim) {
		r := newUSBRig(s, o)
		if err := pm.SetAutosuspendDelay(r.dev.Dev(), 0); err != nil {
			panic(err)
		}
		if err := r.dev.EnableAutosuspend(); err != nil {
			panic(err)
		}
		if err := pm.RuntimeSuspend(r.dev.Dev()); err != nil {
			panic(err)
		}
		var ioErr error
		s.Go("io", func() { ioErr = r.io() })
		s.Go("unplug", func() {
			if err := r.dev.Disconnect(); err != nil {
				panic(err)
			}
		})
		s.AddLeakCheck("modem after the unplug", func() []string {
			bad := r.released()
			var ending string
			switch {
			case ioErr == nil:
				ending = IOThenUnplug
			case errors.Is(ioErr, usbsim.ErrNoDevice) && r.m.resumes == 0:
				ending = IORefused
			case errors.Is(ioErr, usbsim.ErrBusy) || errors.Is(ioErr, usbsim.ErrNoDevice) || errors.Is(ioErr, usbsim.ErrInvalid):
				ending = IOAutoresumeFailed
			default:
				bad = append(bad, "io: "+ioErr.Error())
			}
			return o.End(ending, bad)
		})
	}
}

// The endings of the autosuspend-vs-disconnect scenario.
const (
	// SuspendedThenGone: the autosuspend ran (the driver's suspend
	// callback), then the device was disconnected.
	SuspendedThenGone = "autosuspended, then disconnected"
	// TimerFoundNothing: the disconnect came first; its
	// pm_runtime_barrier and device_del's pm_runtime_remove stopped the
	// timer and the request, or the suspend found the device gone.
	TimerFoundNothing = "disconnected before the autosuspend"
)

// AutosuspendVsDisconnect is the autosuspend timer firing during a
// disconnect. The modem is idle with autosuspend allowed, so its suspend
// timer is armed for usbcore.autosuspend (2 s) after the last use; the
// "unplug" task sleeps those 2 s and pulls the cable, so that the timer's
// suspend (pm_suspend_timer_fn, then pm_runtime_work on pm_wq) and
// usb_disconnect run at the same virtual time. Every run ends with the
// device gone and released, suspended before or never.
func AutosuspendVsDisconnect(o *drvsim.Runs) func(*sim.Sim) {
	return func(s *sim.Sim) {
		r := newUSBRig(s, o)
		if err := r.dev.EnableAutosuspend(); err != nil { // arms the timer, via pm_wq
			panic(err)
		}
		s.Go("unplug", func() {
			r.sys.Env().Sleep(usbsim.DefaultAutosuspendDelay)
			if err := r.dev.Disconnect(); err != nil {
				panic(err)
			}
		})
		s.AddLeakCheck("modem after the unplug", func() []string {
			bad := r.released()
			if r.m.resumes > r.m.suspends {
				bad = append(bad, fmt.Sprintf("%d suspends, %d resumes", r.m.suspends, r.m.resumes))
			}
			ending := TimerFoundNothing
			if r.m.suspends > 0 {
				ending = SuspendedThenGone
			}
			return o.End(ending, bad)
		})
	}
}

// The endings of the resume-vs-unplug scenario.
const (
	// UnpluggedAsleep: the cable was pulled while the machine slept: the
	// device left the PM core's list (device_pm_remove), and the resume
	// never met it.
	UnpluggedAsleep = "unplugged while asleep: the resume skipped the device"
	// UnpluggedDuringResume: the cable was pulled while the devices
	// resumed: the resume found the device gone (dpm_wait_for_superior
	// saw it leave the list, or usb_resume found it not attached:
	// -ENODEV, reported as 0) and went on.
	UnpluggedDuringResume = "unplugged during the resume: the resume found the device gone"
	// ResumedThenUnplugged: the resume was done first.
	ResumedThenUnplugged = "resumed, then unplugged"
)

// ResumeVsUnplug is a system resume racing the unplug of a USB device:
// the "sleep" task suspends the machine, then resumes it; the "unplug"
// task waits until the machine is asleep and pulls the modem's cable
// (drvsim's hub_wq is not frozen, so the disconnect runs at once). Every
// run ends with the machine awake, the device gone and released, and the
// resume never calling a callback of the gone device: its resume
// callbacks run only if its suspend ones did.
func ResumeVsUnplug(o *drvsim.Runs) func(*sim.Sim) {
	return func(s *sim.Sim) {
		r := newUSBRig(s, o)
		for _, d := range []*usbsim.Device{r.hcd.RootHub(), r.dev} {
			// one task walks the list: the race is the resume against the
			// unplug, not the devices' callbacks against each other
			if err := pm.DisableAsyncSuspend(d.Dev()); err != nil {
				panic(err)
			}
		}
		asleep := kernel.NewCompletion(r.sys, "asleep")
		var sleepErr error
		resumed := false
		s.Go("sleep", func() {
			if sleepErr = pm.Suspend(r.sys); sleepErr != nil {
				asleep.CompleteAll()
				return
			}
			asleep.CompleteAll()
			sleepErr = pm.Resume(r.sys)
			resumed = true
		})
		s.Go("unplug", func() {
			asleep.Wait()
			if err := r.dev.Disconnect(); err != nil {
				panic(err)
			}
		})
		s.AddLeakCheck("machine after the resume", func() []string {
			bad := r.released()
			if sleepErr != nil || !resumed || pm.Asleep(r.sys) {
				bad = append(bad, fmt.Sprintf("system sleep: %v (resumed %v)", sleepErr, resumed))
			}
			if r.hcd.RootHub().State() != usbsim.StateConfigured {
				bad = append(bad, "root hub "+r.hcd.RootHub().State().String())
			}
			if r.m.suspends != 1 || r.m.resumes > 1 {
				bad = append(bad, fmt.Sprintf("modem: %d suspends, %d resumes", r.m.suspends, r.m.resumes))
			}
			ending := ResumedThenUnplugged
			if r.m.resumes == 0 {
				ending = UnpluggedDuringResume
				met := false
				for _, e := range s.Log().Events() {
					if e.Func == "dpm_resume_noirq" {
						met = false
					}
					if e.Dev == r.dev.Path() && e.Kind == pm.KindSleep && e.Func != "device_prepare" && e.Func != "dpm_prepare" {
						met = true
					}
				}
				if !met {
					ending = UnpluggedAsleep
				}
			}
			return o.End(ending, bad)
		})
	}
}
