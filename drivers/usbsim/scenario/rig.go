package scenario

import (
	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/drivers/usbsim/skel"
	"github.com/drvsim/drvsim/trace"
)

// Rig is one simulated machine for the skeleton scenarios: a System, the
// USB core with one host controller (a 4-port root hub) and one registered
// skeleton driver. Close it when done.
type Rig struct {
	Sys    *drvsim.System
	USB    *usbsim.USB
	HCD    *usbsim.HCD
	Driver *usbsim.Driver
}

// NewRig builds a rig for variant v on sys (drvsim.NewSystem, on a
// simulator with drvsim.OnSim); Close closes sys.
func NewRig(v skel.Variant, sys *drvsim.System) (*Rig, error) {
	r := &Rig{Sys: sys}
	var err error
	if r.USB, err = usbsim.Init(sys); err != nil {
		sys.Close()
		return nil, err
	}
	if r.HCD, err = r.USB.AddHCD(4); err != nil {
		sys.Close()
		return nil, err
	}
	if r.Driver, err = skel.New(v, r.USB); err != nil {
		sys.Close()
		return nil, err
	}
	if err = r.USB.Register(r.Driver); err != nil {
		sys.Close()
		return nil, err
	}
	return r, nil
}

// Plug connects a skeleton device answered by fn to port of the root hub.
func (r *Rig) Plug(port int, fn usbsim.Function) (*usbsim.Device, error) {
	return r.HCD.RootHub().Plug(port, skel.Gadget(fn))
}

// OpenMinor opens the character device USB_MAJOR:skel.MinorBase+n, the
// number of /dev/skel<n>, as a process holding a node made with mknod
// would: a free minor is usb_open's -ENODEV (opening the path once the
// node is gone would be -ENOENT).
func (r *Rig) OpenMinor(n int) (*chardev.File, error) {
	return chardev.OpenDevt(r.Sys, device.MkDev(usbsim.Major, uint32(skel.MinorBase+n)))
}

// Log returns the rig's trace.
func (r *Rig) Log() *trace.Log { return r.Sys.Log() }

// Close closes the rig's System.
func (r *Rig) Close() { r.Sys.Close() }
