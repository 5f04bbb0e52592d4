package scenario

import (
	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/drivers/drmsim"
	"github.com/drvsim/drvsim/drivers/drmsim/udlsim"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/trace"
)

// Rig is one simulated machine for the udl scenarios: a System, the USB
// core with one host controller (a 4-port root hub), a DRM class and the
// udl driver registered. Close it when done.
type Rig struct {
	Sys     *drvsim.System
	USB     *usbsim.USB
	HCD     *usbsim.HCD
	Class   *drmsim.Class
	Driver  *usbsim.Driver
	Display *udlsim.Display
}

// NewRig builds a rig for variant v on sys (drvsim.NewSystem, on a
// simulator with drvsim.OnSim); Close closes sys.
func NewRig(v udlsim.Variant, sys *drvsim.System) (*Rig, error) {
	r := &Rig{Sys: sys, Display: udlsim.NewDisplay()}
	var err error
	if r.USB, err = usbsim.Init(sys); err != nil {
		sys.Close()
		return nil, err
	}
	if r.HCD, err = r.USB.AddHCD(4); err != nil {
		sys.Close()
		return nil, err
	}
	r.Class = drmsim.NewClass(sys)
	r.Driver = udlsim.New(v, r.Class, r.USB)
	if err = r.USB.Register(r.Driver); err != nil {
		sys.Close()
		return nil, err
	}
	return r, nil
}

// Plug connects a DisplayLink adapter (answered by r.Display) to port of
// the root hub; its interface binds to udl and /dev/dri/card0 appears.
func (r *Rig) Plug(port int) (*usbsim.Device, error) {
	return r.HCD.RootHub().Plug(port, udlsim.Gadget(r.Display))
}

// Unplug pulls the cable of port (usb_disconnect).
func (r *Rig) Unplug(port int) error { return r.HCD.RootHub().Unplug(port) }

// Memory returns the rig's memory arena.
func (r *Rig) Memory() *env.Memory { return r.Sys.Memory() }

// Log returns the rig's trace.
func (r *Rig) Log() *trace.Log { return r.Sys.Log() }

// Close closes the rig's System.
func (r *Rig) Close() { r.Sys.Close() }
