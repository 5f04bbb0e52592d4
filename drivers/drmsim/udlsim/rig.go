package udlsim

import (
	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/drivers/drmsim"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
)

// Rig is one simulated machine for the udl scenarios: a driver core, the
// USB core with one host controller (a 4-port root hub), a DRM class and
// the udl driver registered. Close it when done.
type Rig struct {
	Core    *bus.Core
	USB     *usbsim.USB
	HCD     *usbsim.HCD
	Class   *drmsim.Class
	Driver  *usbsim.Driver
	Display *Display
}

// NewRig builds a rig for variant v. With s non-nil the rig records into
// the Sim's trace, allocates from its memory arena and reports its schedule
// points to it; with s nil it runs on plain goroutines and records into log
// (a new one when nil).
func NewRig(v Variant, s *sim.Sim, log *trace.Log) (*Rig, error) {
	var uopts []usbsim.Option
	var copts []drmsim.ClassOption
	if s != nil {
		log = s.Log()
		uopts = append(uopts, usbsim.WithMemory(s.Memory()))
		copts = append(copts, drmsim.WithMemory(s.Memory()))
	} else {
		if log == nil {
			log = trace.NewLog()
		}
		m := sim.NewMemory(log)
		uopts = append(uopts, usbsim.WithMemory(m))
		copts = append(copts, drmsim.WithMemory(m))
	}
	c := bus.NewCore(log)
	if s != nil {
		c.SetScheduler(s)
	}
	r := &Rig{Core: c, Display: NewDisplay()}
	var err error
	if r.USB, err = usbsim.Init(c, uopts...); err != nil {
		c.Close()
		return nil, err
	}
	if r.HCD, err = r.USB.AddHCD(4); err != nil {
		c.Close()
		return nil, err
	}
	r.Class = drmsim.NewClass(r.USB, copts...)
	r.Driver = New(v, r.Class, r.USB)
	if err = r.USB.Register(r.Driver); err != nil {
		c.Close()
		return nil, err
	}
	return r, nil
}

// Plug connects a DisplayLink adapter (answered by r.Display) to port of
// the root hub; its interface binds to udl and /dev/dri/card0 appears.
func (r *Rig) Plug(port int) (*usbsim.Device, error) {
	return r.HCD.RootHub().Plug(port, Gadget(r.Display))
}

// Unplug pulls the cable of port (usb_disconnect).
func (r *Rig) Unplug(port int) error { return r.HCD.RootHub().Unplug(port) }

// Memory returns the sanitizer arena of the rig.
func (r *Rig) Memory() *sim.Memory { return r.USB.Memory() }

// Log returns the rig's trace.
func (r *Rig) Log() *trace.Log { return r.Core.Log() }

// Close stops the driver core's worker goroutine.
func (r *Rig) Close() { r.Core.Close() }
