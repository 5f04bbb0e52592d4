// Package bq24190 is drivers/power/supply/bq24190_charger.c, the TI
// BQ24190 battery charger on I2C, twice: as it was before commit
// 47c29d692129 ("power: supply: bq24190: Fix use after free bug in
// bq24190_remove due to race condition", Zheng Wang, 2023) and after it,
// written against drvsim's I2C core (drivers/i2csim) and power-supply
// class (drivers/powersupplysim) with the same calls in the same order.
//
// When a supply that powers the charger changes, the power-supply core
// calls the charger's external_power_changed, which queues
// input_current_limit_work 300 ms later; the work reads the supplier's
// current limit through the charger's power_supply and programs it.
// Before the fix, remove() unregisters the supplies (the charger's struct
// power_supply is freed with its device) without stopping that work, and
// devres frees the driver state it lives in; a work running or pending
// at remove() then touches freed memory. The fix cancels it, waiting for
// a running instance, first thing in remove().
//
// Runtime PM (pm_runtime_*), the sysfs attributes, the extcon and the
// VBUS regulator are not modelled: they play no part in the bug.
package bq24190

import (
	"fmt"
	"time"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/drivers/i2csim"
	"github.com/drvsim/drvsim/drivers/powersupplysim"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/trace"
)

// Kind is the trace kind of the driver's own steps.
const Kind trace.Kind = "bq24190"

// Variant is the driver before or after the fix.
type Variant int

// The variants.
const (
	// Before: remove() does not cancel input_current_limit_work.
	Before Variant = iota
	// After: remove() starts with cancel_delayed_work_sync.
	After
)

// Names the driver gives its supplies (bq24190_charger_desc.name,
// bq24190_battery_desc.name) and the supply the charger supplies.
const (
	ChargerName = "bq24190-charger"
	BatteryName = "bq24190-battery"
	SuppliedTo  = "main-battery"
)

// The chip's registers the model uses (BQ24190_REG_*).
const (
	RegISC  = 0x00 // input source control: IINLIM in bits 2:0
	RegPOC  = 0x01 // power-on configuration: REGISTER_RESET in bit 7
	RegSS   = 0x08 // system status
	RegF    = 0x09 // fault
	RegVPRS = 0x0a // vendor / part / revision: PN in bits 5:3

	pocReset = 0x80
	pnMask   = 0x38
	pnShift  = 3
	pn24190  = 0x4 // BQ24190_REG_VPRS_PN_24190
)

// InputCurrentLimitDelay is how long external_power_changed delays
// input_current_limit_work (msecs_to_jiffies(300)).
const InputCurrentLimitDelay = 300 * time.Millisecond

// Chip is the BQ24190 behind its I2C address: a register file whose
// REGISTER_RESET bit clears itself, and whose part number reads as a
// bq24190.
type Chip struct{ i2csim.Regs }

// NewChip returns a powered-up chip.
func NewChip() *Chip {
	c := &Chip{}
	_ = c.Regs.WriteReg(RegVPRS, pn24190<<pnShift)
	return c
}

// WriteReg implements i2csim.Chip: a register reset completes at once.
func (c *Chip) WriteReg(reg, v uint8) error {
	if reg == RegPOC {
		v &^= pocReset
	}
	return c.Regs.WriteReg(reg, v)
}

// devInfo is struct bq24190_dev_info, devm_kzalloc'ed in probe.
type devInfo struct {
	obj                   *env.Object
	client                *i2csim.Client
	dev                   *device.Device
	charger, battery      *powersupplysim.PowerSupply
	fRegLock              *kernel.Mutex
	inputCurrentLimitWork *kernel.DelayedWork
	iinlim                int
}

// Driver returns the i2c_driver "bq24190-charger" in variant v.
func Driver(v Variant) *i2csim.Driver {
	return &i2csim.Driver{
		Name:    "bq24190-charger",
		IDTable: []i2csim.DeviceID{{Name: "bq24190", Data: pn24190}},
		Probe:   probe,
		Remove:  func(c *i2csim.Client) { remove(v, c) },
	}
}

func emit(dev *device.Device, fn, msg string) {
	dev.Log().Emit(trace.Event{Kind: Kind, Dev: dev.Path(), Func: fn, Msg: msg})
}

// probe is bq24190_probe.
func probe(client *i2csim.Client, id i2csim.DeviceID) error {
	dev := client.Dev()
	obj := dev.Env().Memory().Alloc("struct bq24190_dev_info")
	if _, err := dev.Devres().AddOrReset("devm_kzalloc bq24190_dev_info", obj.Free); err != nil {
		return err
	}
	bdi := &devInfo{obj: obj, client: client, dev: dev}
	bdi.fRegLock = kernel.NewMutex(dev, "f_reg_lock")
	bdi.inputCurrentLimitWork = kernel.NewDelayedWork(dev, "input_current_limit_work", func(*kernel.DelayedWork) {
		bdi.inputCurrentLimitWorkFn()
	})
	client.SetClientdata(bdi)
	if client.IRQ() <= 0 {
		kernel.DevErr(dev, "Can't get irq info")
		return fmt.Errorf("bq24190_probe: %w", device.ErrInvalid)
	}
	var err error
	bdi.charger, err = powersupplysim.Register(dev, &powersupplysim.Desc{
		Name: ChargerName, Type: powersupplysim.TypeUSB,
		Properties:           []powersupplysim.Property{powersupplysim.PropInputCurrentLimit, powersupplysim.PropOnline},
		GetProperty:          chargerGetProperty,
		SetProperty:          chargerSetProperty,
		ExternalPowerChanged: externalPowerChanged,
	}, &powersupplysim.Config{DrvData: bdi, SuppliedTo: []string{SuppliedTo}})
	if err != nil {
		kernel.DevErr(dev, "Can't register charger")
		return err
	}
	bdi.battery, err = powersupplysim.Register(dev, &powersupplysim.Desc{
		Name: BatteryName, Type: powersupplysim.TypeBattery,
		Properties:  []powersupplysim.Property{powersupplysim.PropStatus},
		GetProperty: batteryGetProperty,
	}, &powersupplysim.Config{DrvData: bdi})
	if err != nil {
		kernel.DevErr(dev, "Can't register battery")
		bdi.charger.Unregister()
		return err
	}
	if err := bdi.hwInit(id); err != nil {
		kernel.DevErr(dev, "Hardware init failed")
		bdi.battery.Unregister()
		bdi.charger.Unregister()
		return err
	}
	if err := kernel.DevmRequestThreadedIRQ(dev, client.IRQ(), nil, bdi.irqHandlerThread,
		kernel.IRQFTriggerFalling|kernel.IRQFOneshot, "bq24190-charger", bdi); err != nil {
		kernel.DevErr(dev, "Can't set up irq handler")
		bdi.battery.Unregister()
		bdi.charger.Unregister()
		return err
	}
	return nil
}

// remove is bq24190_remove, in the variant's order.
func remove(v Variant, client *i2csim.Client) {
	bdi := client.Clientdata().(*devInfo)
	if v == After {
		bdi.inputCurrentLimitWork.CancelSync()
	}
	bdi.registerReset()
	bdi.obj.Access("bq24190_remove: bdi->battery")
	bdi.battery.Unregister()
	bdi.charger.Unregister()
}

// hwInit is bq24190_hw_init: check the part number, reset the registers.
func (bdi *devInfo) hwInit(id i2csim.DeviceID) error {
	v, err := bdi.client.ReadByteData(RegVPRS)
	if err != nil {
		return err
	}
	if int((v&pnMask)>>pnShift) != id.Data.(int) {
		return fmt.Errorf("bq24190_check_chip: part number %#x: %w", (v&pnMask)>>pnShift, device.ErrNoDevice)
	}
	return bdi.registerReset()
}

// registerReset is bq24190_register_reset: set REGISTER_RESET, which the
// chip clears when done.
func (bdi *devInfo) registerReset() error {
	bdi.obj.Access("bq24190_register_reset: bdi->client")
	v, err := bdi.client.ReadByteData(RegPOC)
	if err != nil {
		return err
	}
	return bdi.client.WriteByteData(RegPOC, v|pocReset)
}

// externalPowerChanged is bq24190_charger_external_power_changed: sync
// the input current limit with the supplier, 300 ms from now.
func externalPowerChanged(psy *powersupplysim.PowerSupply) {
	bdi := psy.DrvData().(*devInfo)
	bdi.obj.Access("bq24190_charger_external_power_changed: &bdi->input_current_limit_work")
	kernel.SystemWQ(bdi.dev).QueueDelayed(bdi.inputCurrentLimitWork, InputCurrentLimitDelay)
}

// inputCurrentLimitWorkFn is bq24190_input_current_limit_work.
func (bdi *devInfo) inputCurrentLimitWorkFn() {
	bdi.obj.Access("bq24190_input_current_limit_work: bdi->charger")
	limit, err := bdi.charger.GetPropertyFromSupplier(powersupplysim.PropCurrentMax)
	if err != nil {
		return
	}
	bdi.obj.Access("bq24190_input_current_limit_work: bdi->charger")
	_ = chargerSetProperty(bdi.charger, powersupplysim.PropInputCurrentLimit, limit)
	bdi.obj.Access("bq24190_input_current_limit_work: bdi->charger")
	bdi.charger.Changed()
}

// iinlimSteps are the IINLIM settings in uA (bq24190_isc_iinlim_values).
var iinlimSteps = []int{100000, 150000, 500000, 900000, 1200000, 1500000, 2000000, 3000000}

// chargerSetProperty is bq24190_charger_set_property for the input
// current limit: the largest IINLIM step not above the value.
func chargerSetProperty(psy *powersupplysim.PowerSupply, p powersupplysim.Property, v int) error {
	bdi := psy.DrvData().(*devInfo)
	if p != powersupplysim.PropInputCurrentLimit {
		return fmt.Errorf("bq24190_charger_set_property %s: %w", p, device.ErrInvalid)
	}
	step := 0
	for i, s := range iinlimSteps {
		if s <= v {
			step = i
		}
	}
	bdi.obj.Access("bq24190_charger_set_iinlimit: bdi->client")
	reg, err := bdi.client.ReadByteData(RegISC)
	if err != nil {
		return err
	}
	if err := bdi.client.WriteByteData(RegISC, reg&^0x07|uint8(step)); err != nil {
		return err
	}
	bdi.iinlim = iinlimSteps[step]
	return nil
}

// chargerGetProperty is bq24190_charger_get_property.
func chargerGetProperty(psy *powersupplysim.PowerSupply, p powersupplysim.Property) (int, error) {
	bdi := psy.DrvData().(*devInfo)
	bdi.obj.Access("bq24190_charger_get_property: bdi")
	switch p {
	case powersupplysim.PropInputCurrentLimit:
		return bdi.iinlim, nil
	case powersupplysim.PropOnline:
		ss, err := bdi.client.ReadByteData(RegSS)
		return int(ss>>2) & 1, err // PG_STAT
	}
	return 0, fmt.Errorf("bq24190_charger_get_property %s: %w", p, powersupplysim.ErrNoData)
}

// batteryGetProperty is bq24190_battery_get_property.
func batteryGetProperty(psy *powersupplysim.PowerSupply, p powersupplysim.Property) (int, error) {
	bdi := psy.DrvData().(*devInfo)
	bdi.obj.Access("bq24190_battery_get_property: bdi")
	if p != powersupplysim.PropStatus {
		return 0, fmt.Errorf("bq24190_battery_get_property %s: %w", p, powersupplysim.ErrNoData)
	}
	bdi.fRegLock.Lock()
	defer bdi.fRegLock.Unlock()
	f, err := bdi.client.ReadByteData(RegF)
	return int(f), err
}

// irqHandlerThread is bq24190_irq_handler_thread: the charger reports a
// status change.
func (bdi *devInfo) irqHandlerThread(int, any) kernel.IRQReturn {
	bdi.obj.Access("bq24190_irq_handler_thread: bdi")
	emit(bdi.dev, "bq24190_check_status", "")
	bdi.charger.Changed()
	bdi.battery.Changed()
	return kernel.IRQHandled
}
