package scenario

import (
	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/drivers/usbsim/chardev"
	"github.com/drvsim/drvsim/drivers/usbsim/skel"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
)

// Rig is one simulated machine for the skeleton scenarios: a driver core,
// the USB core with one host controller (a 4-port root hub), the minor
// range of the skeletons and one registered skeleton driver. Close it when
// done.
type Rig struct {
	Core   *bus.Core
	USB    *usbsim.USB
	HCD    *usbsim.HCD
	Minors *chardev.Registry
	Driver *usbsim.Driver
}

// NewRig builds a rig for variant v. With s non-nil the rig records into
// the Sim's trace, allocates from its memory arena and reports its
// schedule points to it; with s nil it runs on plain goroutines and its
// trace is log (a new one when nil).
func NewRig(v skel.Variant, s *sim.Sim, log *trace.Log) (*Rig, error) {
	var opts []usbsim.Option
	if s != nil {
		log = s.Log()
		opts = append(opts, usbsim.WithMemory(s.Memory()))
	}
	c := bus.NewCore(log)
	if s != nil {
		c.SetScheduler(s)
	}
	r := &Rig{Core: c}
	var err error
	if r.USB, err = usbsim.Init(c, opts...); err != nil {
		c.Close()
		return nil, err
	}
	if r.HCD, err = r.USB.AddHCD(4); err != nil {
		c.Close()
		return nil, err
	}
	r.Minors = skel.NewRegistry(r.USB)
	if r.Driver, err = skel.New(v, r.USB, r.Minors); err != nil {
		c.Close()
		return nil, err
	}
	if err = r.USB.Register(r.Driver); err != nil {
		c.Close()
		return nil, err
	}
	return r, nil
}

// Plug connects a skeleton device answered by fn to port of the root hub.
func (r *Rig) Plug(port int, fn usbsim.Function) (*usbsim.Device, error) {
	return r.HCD.RootHub().Plug(port, skel.Gadget(fn))
}

// Log returns the rig's trace.
func (r *Rig) Log() *trace.Log { return r.Core.Log() }

// Close stops the driver core's worker goroutine.
func (r *Rig) Close() { r.Core.Close() }
