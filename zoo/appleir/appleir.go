// Package appleir is drivers/hid/hid-appleir.c, the Apple infrared remote
// receiver, twice: as it was before commit 75fe87e19d8a ("HID: appleir:
// fix UAF on pending key_up_timer in remove()", Manish Khadka, 2026) and
// after it, written against drvsim's HID core and USB transport
// (drivers/hidsim), input core (drivers/inputsim) and timers, with the
// same calls in the same order.
//
// The remote sends no key-up: each key-down report arms key_up_timer,
// which reports the key up 125 ms later on the input device. Before the
// fix, remove() stopped the HID hardware first (hid_hw_stop unregisters
// the input device, which frees it when no user space holds it open) and
// only then deleted the timer: a timer due meanwhile reported a key on
// freed memory. The fix marks the driver as removing under its spinlock,
// has the timer callback and the raw-event handler check the mark, and
// shuts the timer down (timer_shutdown_sync: waits for the callback and
// forbids re-arming) before stopping the hardware.
package appleir

import (
	"bytes"
	"time"

	"github.com/drvsim/drvsim/drivers/hidsim"
	"github.com/drvsim/drvsim/drivers/inputsim"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/kernel"
)

// Apple's ids (USB_VENDOR_ID_APPLE, USB_DEVICE_ID_APPLE_IRCONTROL*).
const (
	VendorApple  = 0x05ac
	IRControl    = 0x8240
	IRControl2   = 0x1440
	IRControl3   = 0x8241
	IRControl4   = 0x8242
	IRControl5   = 0x8243
	keyMask      = 0x0f
	twoPackets   = 0x40
	reportLength = 5
)

// KeyUpDelay is how long after a key-down the key goes up (HZ / 8).
const KeyUpDelay = 125 * time.Millisecond

// Key codes (KEY_*) of the remote's table.
const (
	KeyReserved   = 0
	KeyEnter      = 28
	KeyVolumeDown = 114
	KeyVolumeUp   = 115
	KeyMenu       = 139
	KeyBack       = 158
	KeyForward    = 159
	KeyPlayPause  = 164
)

// keyTable is appleir_key_table.
var keyTable = [16]int{
	KeyReserved, KeyMenu, KeyPlayPause, KeyForward, KeyBack, KeyVolumeUp, KeyVolumeDown, KeyReserved,
	KeyReserved, KeyReserved, KeyReserved, KeyReserved, KeyReserved, KeyReserved, KeyEnter, KeyPlayPause,
}

// Reports the remote sends.
var (
	keydown     = []byte{0x25, 0x87, 0xee}
	keyrepeat   = []byte{0x26}
	flatbattery = []byte{0x25, 0x87, 0xe0}
)

// KeyDown returns the report of a press of the key at index in the table
// (1 is menu).
func KeyDown(index int) []byte { return []byte{0x25, 0x87, 0xee, 0x00, byte(index << 1)} }

// KeyRepeat returns the report of a key held.
func KeyRepeat() []byte { return []byte{0x26, 0x00, 0x00, 0x00, 0x00} }

// Variant is the driver before or after the fix.
type Variant int

// The variants.
const (
	// Before: remove() stops the hardware, then deletes the timer.
	Before Variant = iota
	// After: remove() sets removing, shuts the timer down, then stops
	// the hardware.
	After
)

// appleir is struct appleir, devm_kzalloc'ed in probe.
type appleir struct {
	v          Variant
	obj        *env.Object
	inputDev   *inputsim.Dev
	hid        *hidsim.Device
	keymap     [16]int
	keyUpTimer *kernel.Timer
	lock       *kernel.SpinLock // protects currentKey (and removing)
	currentKey int
	prevKeyIdx int
	removing   bool
}

// Driver returns the hid_driver "appleir" in variant v.
func Driver(v Variant) *hidsim.Driver {
	return &hidsim.Driver{
		Name: "appleir",
		IDTable: []hidsim.DeviceID{
			hidsim.USBDevice(VendorApple, IRControl), hidsim.USBDevice(VendorApple, IRControl2),
			hidsim.USBDevice(VendorApple, IRControl3), hidsim.USBDevice(VendorApple, IRControl4),
			hidsim.USBDevice(VendorApple, IRControl5),
		},
		RawEvent:        rawEvent,
		InputConfigured: inputConfigured,
		Probe:           func(hid *hidsim.Device, _ hidsim.DeviceID) error { return probe(v, hid) },
		Remove:          remove,
	}
}

// getKey is get_key: the key index in bits 2..9 (negative for the first
// packet of a two-packet command).
func getKey(data byte) int {
	key := int(data>>1) & keyMask
	if data&twoPackets != 0 {
		key = -key
	}
	return key
}

func (a *appleir) keyUp(key int) {
	a.inputDev.ReportKey(key, 0)
	a.inputDev.Sync()
}

func (a *appleir) keyDown(key int) {
	a.inputDev.ReportKey(key, 1)
	a.inputDev.Sync()
}

func (a *appleir) batteryFlat() {
	kernel.DevErr(a.inputDev.Dev(), "possible flat battery?")
}

// keyUpTick is key_up_tick, the timer's callback.
func (a *appleir) keyUpTick(*kernel.Timer) {
	a.obj.Access("key_up_tick: spin_lock_irqsave(&appleir->lock)")
	flags := a.lock.LockIRQSave()
	if (a.v == Before || !a.removing) && a.currentKey != 0 {
		a.keyUp(a.currentKey)
		a.currentKey = 0
	}
	a.lock.UnlockIRQRestore(flags)
}

// rawEvent is appleir_raw_event, in the variant's way.
func rawEvent(hid *hidsim.Device, data []byte) int {
	a := hid.Drvdata().(*appleir)
	a.obj.Access("appleir_raw_event: appleir")
	if len(data) != reportLength || hid.Claimed()&hidsim.ClaimedInput == 0 {
		return 0
	}
	if bytes.HasPrefix(data, keydown) {
		flags := a.lock.LockIRQSave()
		defer a.lock.UnlockIRQRestore(flags)
		if a.v == After && a.removing {
			return 0
		}
		// If we already have a key down, take it up before marking
		// this one down.
		if a.currentKey != 0 {
			a.keyUp(a.currentKey)
		}
		var index int
		if a.prevKeyIdx > 0 {
			index = a.prevKeyIdx
		} else {
			index = getKey(data[4])
		}
		if index >= 0 {
			a.currentKey = a.keymap[index]
			a.keyDown(a.currentKey)
			// The remote does no key up: a timer pulls the key up 1/8 s later.
			a.keyUpTimer.Mod(hid.Dev().Env().Now() + KeyUpDelay)
			a.prevKeyIdx = 0
		} else {
			a.prevKeyIdx = -index // remember the key for the next packet
		}
		return 0
	}
	a.prevKeyIdx = 0
	if bytes.HasPrefix(data, keyrepeat) {
		if a.v == Before {
			a.keyDown(a.currentKey)
			a.keyUpTimer.Mod(hid.Dev().Env().Now() + KeyUpDelay)
			return 0
		}
		flags := a.lock.LockIRQSave()
		if !a.removing {
			a.keyDown(a.currentKey)
			a.keyUpTimer.Mod(hid.Dev().Env().Now() + KeyUpDelay)
		}
		a.lock.UnlockIRQRestore(flags)
		return 0
	}
	if bytes.HasPrefix(data, flatbattery) {
		if a.v == Before {
			a.batteryFlat()
		} else {
			flags := a.lock.LockIRQSave()
			if !a.removing {
				a.batteryFlat()
			}
			a.lock.UnlockIRQRestore(flags)
		}
	}
	return 0 // let hidraw and hiddev handle the report
}

// inputConfigured is appleir_input_configured: the input device the HID
// core registers is the remote's.
func inputConfigured(hid *hidsim.Device, input *inputsim.Dev) error {
	a := hid.Drvdata().(*appleir)
	a.obj.Access("appleir_input_configured: appleir->input_dev")
	a.inputDev = input
	a.keymap = keyTable
	return nil
}

// probe is appleir_probe.
func probe(v Variant, hid *hidsim.Device) error {
	dev := hid.Dev()
	obj := dev.Env().Memory().Alloc("struct appleir")
	h, err := dev.Devres().AddOrReset("devm_kzalloc appleir", obj.Free)
	if err != nil {
		return err
	}
	a := &appleir{v: v, obj: obj, hid: hid}
	// force input as some remotes bypass the input registration
	hid.SetQuirks(hidsim.QuirkHIDInputForce)
	a.lock = kernel.NewSpinLock(dev, "appleir->lock")
	a.keyUpTimer = kernel.NewTimer(dev, "key_up_timer", a.keyUpTick)
	hid.SetDrvdata(a)
	if err := hid.Parse(); err != nil {
		kernel.DevErr(dev, "parse failed")
		_ = dev.Devres().Release(h) // devm_kfree
		return err
	}
	if err := hid.HWStart(hidsim.ConnectDefault | hidsim.ConnectHIDDevForce); err != nil {
		kernel.DevErr(dev, "hw start failed")
		_ = dev.Devres().Release(h)
		return err
	}
	return nil
}

// remove is appleir_remove, in the variant's order.
func remove(hid *hidsim.Device) {
	a := hid.Drvdata().(*appleir)
	a.obj.Access("appleir_remove: appleir")
	if a.v == Before {
		hid.HWStop()
		a.keyUpTimer.DeleteSync()
		return
	}
	// Mark the driver as tearing down so that a concurrent raw_event and
	// the timer stop touching input_dev before hid_hw_stop frees it.
	flags := a.lock.LockIRQSave()
	a.removing = true
	a.lock.UnlockIRQRestore(flags)
	a.keyUpTimer.ShutdownSync()
	hid.HWStop()
}
