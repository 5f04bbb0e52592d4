package hidsim

import (
	"fmt"
	"sync"

	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
	"github.com/drvsim/drvsim/drivers/inputsim"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/trace"
)

// BusName is the HID bus (hid_bus_type).
const BusName = "hid"

// Kind is the trace kind of the HID core's events.
const Kind trace.Kind = "hid"

// BusUSB is BUS_USB, the bus type in a HID id.
const BusUSB = 0x03

// hid_hw_start connect masks (HID_CONNECT_*).
const (
	ConnectHIDInput      = 0x01
	ConnectHIDInputForce = 0x02
	ConnectHIDRaw        = 0x04
	ConnectHIDDev        = 0x08
	ConnectHIDDevForce   = 0x10
	ConnectDefault       = ConnectHIDInput | ConnectHIDRaw | ConnectHIDDev
)

// ClaimedInput is HID_CLAIMED_INPUT in hid_device.claimed.
const ClaimedInput = 0x01

// QuirkHIDInputForce is HID_QUIRK_HIDINPUT_FORCE.
const QuirkHIDInputForce = 0x00000080

// Errors of these paths.
var (
	ErrInvalid  = device.ErrInvalid
	ErrBusy     = device.ErrBusy
	ErrNoDevice = device.ErrNoDevice
)

// DeviceID is struct hid_device_id.
type DeviceID struct {
	Bus     uint16
	Vendor  uint16
	Product uint16
}

// USBDevice is HID_USB_DEVICE(vendor, product).
func USBDevice(vendor, product uint16) DeviceID {
	return DeviceID{Bus: BusUSB, Vendor: vendor, Product: product}
}

// Driver is struct hid_driver. Probe nil means hid_parse and
// hid_hw_start(HID_CONNECT_DEFAULT); Remove nil means hid_hw_stop.
type Driver struct {
	Name            string
	IDTable         []DeviceID
	Probe           func(hdev *Device, id DeviceID) error
	Remove          func(hdev *Device)
	RawEvent        func(hdev *Device, data []byte) int
	InputConfigured func(hdev *Device, input *inputsim.Dev) error

	h   *HID
	drv *driver.Driver
}

// HID is the HID core of one machine, with the usbhid transport on its
// USB core.
type HID struct {
	core   *bus.Core
	bus    *bus.Bus
	usb    *usbsim.USB
	usbhid *usbsim.Driver

	mu      sync.Mutex
	devices map[*device.Device]*Device
	drivers map[*driver.Driver]*Driver
	seq     int
}

// Init is hid_init on u's machine: the "hid" bus, then the usbhid driver
// on u (usbhid_init).
func Init(u *usbsim.USB) (*HID, error) {
	if u == nil {
		return nil, fmt.Errorf("hid_init: no usb core: %w", ErrInvalid)
	}
	h := &HID{core: u.Core(), usb: u, devices: map[*device.Device]*Device{}, drivers: map[*driver.Driver]*Driver{}}
	h.bus = &bus.Bus{Name: BusName, Match: h.match, Probe: h.probe, Remove: h.remove}
	if err := h.core.RegisterBus(h.bus); err != nil {
		return nil, fmt.Errorf("hid_init: %w", err)
	}
	h.usbhid = &usbsim.Driver{Name: "usbhid", IDTable: []usbsim.DeviceID{{Flags: usbsim.MatchIntClass, IntClass: 3}},
		Probe: h.usbhidProbe, Disconnect: h.usbhidDisconnect}
	if err := u.Register(h.usbhid); err != nil {
		return nil, fmt.Errorf("usbhid_init: %w", err)
	}
	return h, nil
}

func (h *HID) emit(dev, fn, msg string) {
	h.core.Log().Emit(trace.Event{Kind: Kind, Dev: dev, Func: fn, Msg: msg})
}

// RegisterDriver is hid_register_driver.
func (h *HID) RegisterDriver(d *Driver) error {
	if d == nil || d.Name == "" {
		return fmt.Errorf("hid_register_driver: %w", ErrInvalid)
	}
	if d.h != nil {
		return fmt.Errorf("hid_register_driver %s: %w", d.Name, ErrBusy)
	}
	drv := &driver.Driver{Name: d.Name, Bus: BusName}
	h.mu.Lock()
	d.h, d.drv = h, drv
	h.drivers[drv] = d
	h.mu.Unlock()
	if err := h.core.RegisterDriver(drv); err != nil {
		h.mu.Lock()
		delete(h.drivers, drv)
		d.h, d.drv = nil, nil
		h.mu.Unlock()
		return fmt.Errorf("hid_register_driver %s: %w", d.Name, err)
	}
	return nil
}

// UnregisterDriver is hid_unregister_driver.
func (h *HID) UnregisterDriver(d *Driver) error {
	if d == nil || d.h != h {
		return fmt.Errorf("hid_unregister_driver: %w", ErrInvalid)
	}
	if err := h.core.UnregisterDriver(d.drv); err != nil {
		return err
	}
	h.mu.Lock()
	delete(h.drivers, d.drv)
	d.h, d.drv = nil, nil
	h.mu.Unlock()
	return nil
}

func (d *Driver) matchID(hdev *Device) (DeviceID, bool) {
	for _, id := range d.IDTable {
		if id == hdev.id {
			return id, true
		}
	}
	return DeviceID{}, false
}

// match is hid_bus_match.
func (h *HID) match(dev *device.Device, drv *driver.Driver) bool {
	h.mu.Lock()
	hd, d := h.devices[dev], h.drivers[drv]
	h.mu.Unlock()
	if hd == nil || d == nil {
		return false
	}
	_, ok := d.matchID(hd)
	return ok
}

// probe is hid_device_probe: under driver_input_lock, the driver's probe
// (or the default: parse and start).
func (h *HID) probe(dev *device.Device, drv *driver.Driver) error {
	h.mu.Lock()
	hd, d := h.devices[dev], h.drivers[drv]
	h.mu.Unlock()
	if hd == nil || d == nil {
		return fmt.Errorf("hid_device_probe %s: %w", dev.Path(), ErrNoDevice)
	}
	id, _ := d.matchID(hd)
	hd.driverInputLock.Lock()
	defer hd.driverInputLock.Unlock()
	hd.setDriver(d)
	var err error
	if d.Probe != nil {
		err = d.Probe(hd, id)
	} else if err = hd.Parse(); err == nil {
		err = hd.HWStart(ConnectDefault)
	}
	if err != nil {
		hd.setDriver(nil)
	}
	return err
}

// remove is hid_device_remove: under driver_input_lock, the driver's
// remove (or hid_hw_stop); the device then has no driver.
func (h *HID) remove(dev *device.Device, drv *driver.Driver) {
	h.mu.Lock()
	hd, d := h.devices[dev], h.drivers[drv]
	h.mu.Unlock()
	if hd == nil || d == nil {
		return
	}
	hd.driverInputLock.Lock()
	defer hd.driverInputLock.Unlock()
	if d.Remove != nil {
		d.Remove(hd)
	} else {
		hd.HWStop()
	}
	hd.setDriver(nil)
}

// Device is struct hid_device, with usbhid's per-device state (struct
// usbhid_device) as its transport.
type Device struct {
	h               *HID
	dev             *device.Device
	id              DeviceID
	driverInputLock *kernel.Mutex // driver_input_lock (a semaphore)

	mu      sync.Mutex
	driver  *Driver
	claimed int
	quirks  uint32
	input   *inputsim.Dev

	// usbhid
	intf    *usbsim.Interface
	urbIn   *usbsim.URB
	inBuf   *usbsim.Buffer
	started bool
}

// Dev returns the hid_device's device (&hdev->dev).
func (hd *Device) Dev() *device.Device { return hd.dev }

// SetDrvdata is hid_set_drvdata; Drvdata is hid_get_drvdata.
func (hd *Device) SetDrvdata(v any) { hd.dev.SetDrvdata(v) }

// Drvdata is hid_get_drvdata.
func (hd *Device) Drvdata() any { return hd.dev.Drvdata() }

// SetQuirks ors quirks into hdev->quirks.
func (hd *Device) SetQuirks(q uint32) {
	hd.mu.Lock()
	hd.quirks |= q
	hd.mu.Unlock()
}

// Claimed returns hdev->claimed.
func (hd *Device) Claimed() int {
	hd.mu.Lock()
	defer hd.mu.Unlock()
	return hd.claimed
}

// Input returns the input device hid_connect registered, nil if none.
func (hd *Device) Input() *inputsim.Dev {
	hd.mu.Lock()
	defer hd.mu.Unlock()
	return hd.input
}

func (hd *Device) setDriver(d *Driver) {
	hd.mu.Lock()
	hd.driver = d
	hd.mu.Unlock()
}

// Parse is hid_parse (hid_open_report); report descriptors are not
// modelled.
func (hd *Device) Parse() error { return nil }

// HWStart is hid_hw_start: the transport starts (usbhid_start: the
// interrupt-in URB is submitted), then hid_connect registers the input
// device (hidinput_connect), calling the driver's input_configured.
func (hd *Device) HWStart(connectMask int) error {
	if err := hd.usbhidStart(); err != nil {
		return err
	}
	if connectMask&(ConnectHIDInput|ConnectHIDInputForce) == 0 {
		return nil
	}
	input := inputsim.Allocate(hd.h.core)
	input.Name = hd.dev.Name()
	hd.mu.Lock()
	d := hd.driver
	hd.mu.Unlock()
	if d != nil && d.InputConfigured != nil {
		if err := d.InputConfigured(hd, input); err != nil {
			input.Free()
			hd.usbhidStop()
			return err
		}
	}
	if err := input.Register(hd.dev); err != nil {
		input.Free()
		hd.usbhidStop()
		return err
	}
	hd.mu.Lock()
	hd.input = input
	hd.claimed |= ClaimedInput
	hd.mu.Unlock()
	hd.h.emit(hd.dev.Path(), "hid_connect", "input: "+input.Dev().Name()+" on "+hd.dev.Name())
	return nil
}

// HWStop is hid_hw_stop: hid_disconnect (hidinput_disconnect unregisters
// the input device), then the transport stops (usbhid_stop kills the
// URB).
func (hd *Device) HWStop() {
	hd.mu.Lock()
	input := hd.input
	hd.input = nil
	hd.claimed &^= ClaimedInput
	hd.mu.Unlock()
	hd.h.emit(hd.dev.Path(), "hid_disconnect", "")
	if input != nil {
		input.Unregister()
	}
	hd.usbhidStop()
}

// InputReport is hid_input_report for an input report: dropped (ErrBusy)
// while a probe or remove holds driver_input_lock, ErrNoDevice without a
// driver, else the driver's raw_event.
func (hd *Device) InputReport(data []byte) error {
	if !hd.driverInputLock.TryLock() {
		hd.h.emit(hd.dev.Path(), "hid_input_report", "driver_input_lock busy: -EBUSY")
		return fmt.Errorf("hid_input_report %s: %w", hd.dev.Name(), ErrBusy)
	}
	defer hd.driverInputLock.Unlock()
	hd.mu.Lock()
	d := hd.driver
	hd.mu.Unlock()
	if d == nil {
		return fmt.Errorf("hid_input_report %s: %w", hd.dev.Name(), ErrNoDevice)
	}
	if d.RawEvent != nil {
		d.RawEvent(hd, data)
	}
	return nil
}
