package udlsim

import (
	"errors"
	"fmt"

	"github.com/drvsim/drvsim/drivers/drmsim"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/revocable"
	"github.com/drvsim/drvsim/trace"
)

// Kind is the trace kind of the driver's own steps (udl_drop_usb).
const Kind trace.Kind = "udl"

// Variant selects how the driver protects its hardware path.
type Variant int

// The variants; see the package documentation.
const (
	// Classic uses drm_dev_enter / drm_dev_exit.
	Classic Variant = iota
	// Revocable uses its own revocable handle on the drm device's presence.
	Revocable
	// Broken uses neither: the use-after-free the others prevent.
	Broken
)

// String names the variant.
func (v Variant) String() string {
	switch v {
	case Classic:
		return "classic"
	case Revocable:
		return "revocable"
	case Broken:
		return "broken"
	}
	return "variant?"
}

// NumURBs is the size of the driver's URB pool (udl_alloc_urb_list), and
// so the number of lines a flush has in flight at once.
const NumURBs = 2

// URBSize is the size of each URB's transfer buffer.
const URBSize = 4096

// State is the driver's drmm-managed state (struct udl_device's counters),
// allocated with drmsim.Kzalloc: it lives until the drm device is
// released.
type State struct {
	// Flushes counts completed flushes; Lines the lines they sent.
	Flushes, Lines int
}

// udl is struct udl_device.
type udl struct {
	v      Variant
	usb    *usbsim.USB
	intf   *usbsim.Interface
	drm    *drmsim.Device
	state  *env.Value[State]
	urbs   []*usbsim.URB
	lock   *kernel.Mutex // the modeset lock serialising damage updates
	handle *revocable.Consumer[drmsim.Presence]
}

// New returns the udl usb_driver in variant v, creating its drm devices in
// class. Register it with u.Register.
func New(v Variant, class *drmsim.Class, u *usbsim.USB) *usbsim.Driver {
	ddrv := &drmsim.Driver{Name: "udl", Desc: "DisplayLink", Major: 0, Minor: 0, Patchlevel: 1, Dirty: dirty}
	return &usbsim.Driver{
		Name:    "udl",
		IDTable: IDTable(),
		Probe: func(intf *usbsim.Interface, _ usbsim.DeviceID) error {
			return probe(v, class, ddrv, u, intf)
		},
		Disconnect: disconnect,
	}
}

// probe is udl_usb_probe: devm_drm_dev_alloc on the interface, the
// drmm-managed state and mode config, the URB pool (udl_alloc_urb_list,
// freed by disconnect's udl_drop_usb), then drm_dev_register.
func probe(v Variant, class *drmsim.Class, ddrv *drmsim.Driver, u *usbsim.USB, intf *usbsim.Interface) error {
	d, err := drmsim.DevmDevAlloc(class, ddrv, intf.Dev())
	if err != nil {
		return err
	}
	ud := &udl{v: v, usb: u, intf: intf, drm: d, lock: kernel.NewMutex(u, "udl modeset lock")}
	d.SetPrivate(ud)
	if ud.state, err = drmsim.Kzalloc[State](d, "udl_device"); err != nil {
		return err
	}
	if err := d.AddAction("drm_mode_config_cleanup", func() {}); err != nil {
		return err
	}
	for i := range NumURBs {
		urb := u.AllocURB()
		urb.FillBulk(intf.Device(), BulkOut, u.AllocBuffer(fmt.Sprintf("udl urb %d buffer", i), URBSize), 0,
			func(*usbsim.URB) {}, ud) // udl_urb_completion
		ud.urbs = append(ud.urbs, urb)
	}
	if err := ud.finishProbe(v, d, intf); err != nil {
		// The URB list is not devres-managed: free it on the way out, as
		// udl_init's error path does (the kernel's udl_usb_probe does not
		// when drm_dev_register fails; the model does not leak it).
		ud.freeURBs()
		return err
	}
	return nil
}

// finishProbe is the rest of probe once the URB list is allocated: the
// Revocable variant's handle, usb_set_intfdata, drm_dev_register.
func (ud *udl) finishProbe(v Variant, d *drmsim.Device, intf *usbsim.Interface) error {
	if v == Revocable {
		h, err := revocable.New(d.Presence())
		if err != nil {
			return err
		}
		ud.handle = h
		if err := d.AddActionOrReset("udl_put_presence_handle", func() { _ = h.Close() }); err != nil {
			return err
		}
	}
	intf.SetIntfdata(ud)
	return d.Register()
}

// disconnect is udl_usb_disconnect, in the kernel's order: drm_dev_unplug
// (flushes inside their drm_dev_enter section finish first, later ones
// fail), then udl_drop_usb, which frees the URB list. Devres then drops
// the devm reference on the drm device, which lives on until its last
// file is closed.
func disconnect(intf *usbsim.Interface) {
	ud, _ := intf.Intfdata().(*udl)
	if ud == nil {
		return
	}
	ud.drm.Unplug()
	ud.dropUSB()
}

// dropUSB is udl_drop_usb: udl_free_urb_list (the kernel also drops its
// reference on the DMA device, which is not modelled).
func (ud *udl) dropUSB() {
	ud.usb.Log().Emit(trace.Event{Kind: Kind, Dev: ud.intf.Path(), Func: "udl_drop_usb",
		Msg: fmt.Sprintf("udl_free_urb_list: %d urbs", len(ud.urbs))})
	ud.freeURBs()
}

// freeURBs is udl_free_urb_list: wait for every URB to come back (here:
// kill it, which waits for its completion), free its buffer.
func (ud *udl) freeURBs() {
	for _, urb := range ud.urbs {
		urb.Kill()
		urb.Buffer.Free()
	}
}

// dirty is the framebuffer's dirty callback (udl_primary_plane_helper
// _atomic_update, udl_handle_damage), in the variant's protection.
func dirty(f *drmsim.File, bo *drmsim.GEMObject, clip drmsim.Rect) error {
	d := f.Device()
	ud, _ := d.Private().(*udl)
	if ud == nil {
		return fmt.Errorf("udl: no driver state: %w", drmsim.ErrNoDevice)
	}
	switch ud.v {
	case Classic:
		idx, ok := d.Enter()
		if !ok {
			return fmt.Errorf("udl_handle_damage: drm_dev_enter: %w", drmsim.ErrNoDevice)
		}
		defer d.Exit(idx)
		return ud.handleDamage(bo, clip)
	case Revocable:
		err := ud.handle.OrReturn(func(*drmsim.Presence) error { return ud.handleDamage(bo, clip) })
		if errors.Is(err, revocable.ErrRevoked) {
			return fmt.Errorf("udl_handle_damage: %w: %w", drmsim.ErrNoDevice, err)
		}
		return err
	default:
		return ud.handleDamage(bo, clip)
	}
}
