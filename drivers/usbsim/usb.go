package usbsim

import (
	"fmt"
	"reflect"
	"sync"

	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/pm"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/trace"
)

// BusName is the USB bus's name (usb_bus_type).
const BusName = "usb"

// USB is the USB core of one simulated system: the usb bus registered on a
// driver core, its host controllers, the hub and generic device drivers,
// and the lock that guards every endpoint queue and URB (the kernel's
// hcd_urb_list_lock). Create it with Init. All methods are safe for
// concurrent use; none starts a goroutine.
type USB struct {
	core    *bus.Core
	bus     *bus.Bus
	generic *driver.Driver
	hub     *Driver
	killq   *kernel.WaitQueue // usb_kill_urb_queue
	files   files             // the USB major's minors (file.go)

	mu      sync.Mutex
	devs    map[*device.Device]*Device
	intfs   map[*device.Device]*Interface
	drivers map[*driver.Driver]*Driver
	hcds    []*HCD
	urbSeq  int

	checkedDevs bool // SetCheckedDevices

	// the hardware: what is plugged into each hub's downstream ports
	// (keyed by the hub's Gadget, so a hub unplugged with devices on it
	// keeps them), and where each plugged gadget is
	ports map[*Gadget][]*Gadget
	at    map[*Gadget]hwPort

	// hub_wq (hubwq.go)
	depth     int       // USB core calls in progress (API entries and bus callbacks)
	wqRunning bool      // the hub_wq work is running
	wq        []*Device // hubs with port change bits set (hub->event_list)
}

// Init is usb_init on machine m (a drvsim.System or a *bus.Core): it
// registers the "usb" bus on m's driver core, the USB character major
// (usb_major_init: major 180, whose opens usb_open dispatches to the
// minor's driver, see RegisterDev), then the hub driver
// (usb_hub_init) and the generic device driver "usb"
// (usb_register_device_driver). The USB core lives in m's environment: its
// URB buffers and drivers' state come from the machine's memory arena, its
// locks and waits are the machine's.
func Init(m bus.Machine) (*USB, error) {
	if m == nil || isNil(m) {
		return nil, fmt.Errorf("usb_init: no machine: %w", ErrInvalid)
	}
	core := m.DriverCore()
	u := &USB{
		core:    core,
		devs:    map[*device.Device]*Device{},
		intfs:   map[*device.Device]*Interface{},
		drivers: map[*driver.Driver]*Driver{},
		ports:   map[*Gadget][]*Gadget{},
		at:      map[*Gadget]hwPort{},
	}
	u.killq = kernel.NewWaitQueue(core, "usb_kill_urb_queue")
	if err := pm.Attach(m); err != nil {
		return nil, fmt.Errorf("usb_init: %w", err)
	}
	u.bus = &bus.Bus{Name: BusName, Match: u.match, Probe: u.probe, Remove: u.remove, Uevent: u.uevent}
	u.bus.PM = u.pmOps()
	if err := core.RegisterBus(u.bus); err != nil {
		return nil, fmt.Errorf("usb_init: %w", err)
	}
	if err := u.majorInit(); err != nil {
		_ = core.UnregisterBus(u.bus)
		return nil, fmt.Errorf("usb_init: %w", err)
	}
	u.hub = newHubDriver()
	if err := u.Register(u.hub); err != nil {
		return nil, fmt.Errorf("usb_hub_init: %w", err)
	}
	u.generic = &driver.Driver{Name: "usb", Bus: BusName}
	if err := core.RegisterDriver(u.generic); err != nil {
		return nil, fmt.Errorf("usb_register_device_driver: %w", err)
	}
	u.emit(KindDriver, u.generic.Path(), "usb_register_device_driver", "registered new device driver usb")
	return u, nil
}

// Core returns the driver core the USB bus is registered on.
func (u *USB) Core() *bus.Core { return u.core }

// Bus returns the usb bus (usb_bus_type).
func (u *USB) Bus() *bus.Bus { return u.bus }

// Env returns the machine's environment (it makes a USB an env.Host).
func (u *USB) Env() *env.Env { return u.core.Env() }

// DriverCore returns the driver core the USB bus is registered on (it
// makes a USB a bus.Machine).
func (u *USB) DriverCore() *bus.Core { return u.core }

// Memory returns the machine's memory arena, where URB buffers and
// drivers' state are allocated.
func (u *USB) Memory() *env.Memory { return u.core.Env().Memory() }

// Log returns the trace log.
func (u *USB) Log() *trace.Log { return u.core.Log() }

// HCDs returns the host controllers in order of AddHCD.
func (u *USB) HCDs() []*HCD {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]*HCD(nil), u.hcds...)
}

// DeviceOf returns the usb_device behind a driver-model device
// (to_usb_device), or nil.
func (u *USB) DeviceOf(dev *device.Device) *Device {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.devs[dev]
}

// InterfaceOf returns the usb_interface behind a driver-model device
// (to_usb_interface), or nil.
func (u *USB) InterfaceOf(dev *device.Device) *Interface {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.intfs[dev]
}

func (u *USB) emit(kind trace.Kind, dev, fn, msg string) {
	u.core.Log().Emit(trace.Event{Kind: kind, Dev: dev, Func: fn, Msg: msg})
}

func (u *USB) yield(kind, fn, obj string) {
	u.Env().Yield(sched.Point{Kind: kind, Func: fn, Obj: obj})
}

// match is usb_device_match: usb_devices match the generic device driver
// only; interfaces match interface drivers by usb_match_id and then the
// dynamic ids (usb_match_dynamic_id).
func (u *USB) match(dev *device.Device, drv *driver.Driver) bool {
	u.mu.Lock()
	udev, intf, ud := u.devs[dev], u.intfs[dev], u.drivers[drv]
	u.mu.Unlock()
	switch {
	case udev != nil:
		return drv == u.generic
	case intf != nil && ud != nil:
		_, ok := ud.matchID(intf)
		return ok
	}
	return false
}

// probe is the usb bus's probe: usb_probe_device for a usb_device,
// usb_probe_interface for an interface.
func (u *USB) probe(dev *device.Device, drv *driver.Driver) error {
	u.mu.Lock()
	udev, intf, ud := u.devs[dev], u.intfs[dev], u.drivers[drv]
	u.mu.Unlock()
	switch {
	case udev != nil && drv == u.generic:
		u.enter()
		defer u.exit("usb_probe_device " + udev.Name())
		return u.genericProbe(udev)
	case intf != nil && ud != nil:
		u.enter()
		defer u.exit("usb_probe_interface " + intf.Name())
		return u.probeInterface(intf, ud)
	}
	return fmt.Errorf("usb probe %s: not a usb device or driver: %w", dev.Path(), ErrNoDevice)
}

// remove is the usb bus's remove: usb_unbind_device or
// usb_unbind_interface.
func (u *USB) remove(dev *device.Device, drv *driver.Driver) {
	u.mu.Lock()
	udev, intf, ud := u.devs[dev], u.intfs[dev], u.drivers[drv]
	u.mu.Unlock()
	switch {
	case udev != nil:
		u.enter()
		defer u.exit("usb_unbind_device " + udev.Name())
		u.genericDisconnect(udev)
	case intf != nil && ud != nil:
		u.enter()
		defer u.exit("usb_unbind_interface " + intf.Name())
		u.unbindInterface(intf, ud)
	}
}

// uevent is usb_uevent: PRODUCT= for devices, INTERFACE= and MODALIAS= for
// interfaces.
func (u *USB) uevent(dev *device.Device) []string {
	u.mu.Lock()
	udev, intf := u.devs[dev], u.intfs[dev]
	u.mu.Unlock()
	switch {
	case udev != nil:
		d := udev.gadget.Desc
		return []string{fmt.Sprintf("PRODUCT=%x/%x/%x", d.VendorID, d.ProductID, d.BcdDevice), "DEVTYPE=usb_device"}
	case intf != nil:
		d, i := intf.udev.gadget.Desc, intf.desc
		return []string{fmt.Sprintf("INTERFACE=%d/%d/%d", i.Class, i.SubClass, i.Protocol), "DEVTYPE=usb_interface",
			fmt.Sprintf("MODALIAS=usb:v%04Xp%04Xd%04Xdc%02Xdsc%02Xdp%02Xic%02Xisc%02Xip%02Xin%02X",
				d.VendorID, d.ProductID, d.BcdDevice, d.Class, d.SubClass, d.Protocol, i.Class, i.SubClass, i.Protocol, i.Number)}
	}
	return nil
}

// isNil reports whether v holds a nil pointer (a typed nil in an
// interface).
func isNil(v any) bool {
	r := reflect.ValueOf(v)
	return r.Kind() == reflect.Pointer && r.IsNil()
}
