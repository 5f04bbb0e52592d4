package powersupplysim

import (
	"fmt"
	"slices"
	"sync"

	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/trace"
)

// Kind is the trace kind of the power-supply class's events.
const Kind trace.Kind = "power_supply"

// ClassName is the class's name (/sys/class/power_supply).
const ClassName = "power_supply"

// Errors of these paths (package device's values).
var (
	// ErrInvalid is -EINVAL: no parent, description or name; a property
	// the supply cannot set.
	ErrInvalid = device.ErrInvalid
	// ErrNoDevice is -ENODEV: a supply being unregistered, no supplier
	// answering a property.
	ErrNoDevice = device.ErrNoDevice
	// ErrNoData is -ENODATA: a property the supply does not have.
	ErrNoData = device.ErrNoData
)

// Type is enum power_supply_type.
type Type int

// Supply types.
const (
	TypeUnknown Type = iota
	TypeBattery
	TypeUPS
	TypeMains
	TypeUSB
)

// Property is enum power_supply_property (the ones the models use).
type Property int

// Properties.
const (
	PropStatus Property = iota
	PropOnline
	PropCurrentMax
	PropInputCurrentLimit
	PropChargeType
	PropHealth
)

var propNames = map[Property]string{
	PropStatus: "status", PropOnline: "online", PropCurrentMax: "current_max",
	PropInputCurrentLimit: "input_current_limit", PropChargeType: "charge_type", PropHealth: "health",
}

// String names the property as its sysfs attribute does.
func (p Property) String() string {
	if n, ok := propNames[p]; ok {
		return n
	}
	return fmt.Sprintf("property %d", int(p))
}

// Desc is struct power_supply_desc: what a driver's supply is and does.
type Desc struct {
	// Name is the supply's name, its device's name under
	// /sys/class/power_supply.
	Name string
	// Type is the supply's type.
	Type Type
	// Properties lists the properties GetProperty answers.
	Properties []Property
	// GetProperty reads a property (get_property); required.
	GetProperty func(psy *PowerSupply, p Property) (int, error)
	// SetProperty writes one (set_property); nil: read-only.
	SetProperty func(psy *PowerSupply, p Property, v int) error
	// ExternalPowerChanged is called when a supply that supplies this one
	// changed (external_power_changed), from the power-supply core's
	// work.
	ExternalPowerChanged func(psy *PowerSupply)
}

// Config is struct power_supply_config.
type Config struct {
	// DrvData is the driver's data (power_supply_get_drvdata).
	DrvData any
	// SuppliedTo names the supplies this one supplies.
	SuppliedTo []string
}

// PowerSupply is struct power_supply: a registered supply, a device of
// the power_supply class below the driver's device.
type PowerSupply struct {
	desc       *Desc
	dev        *device.Device
	obj        *env.Object // the kzalloc'ed struct, freed by the release
	drvData    any
	suppliedTo []string
	work       *kernel.Work // changed_work

	mu       sync.Mutex // changed_lock
	changed  bool
	useCnt   int
	removing bool
}

// class is the machine's power_supply class, created at the first
// registration (power_supply_class_init).
type classKey struct{}

func classOf(core *bus.Core) (*chardev.Class, error) {
	type entry struct {
		c   *chardev.Class
		err error
	}
	v := core.Env().Local(classKey{}, func() any {
		c, err := chardev.CreateClass(core, ClassName)
		return &entry{c, err}
	}).(*entry)
	return v.c, v.err
}

// Register is power_supply_register: a supply described by desc, below
// parent (the driver's device), with cfg's driver data and supplicants.
// The struct is allocated, its device added to the class, and the supply
// is usable from then on.
func Register(parent *device.Device, desc *Desc, cfg *Config) (*PowerSupply, error) {
	if parent == nil || desc == nil || desc.Name == "" || desc.GetProperty == nil {
		return nil, fmt.Errorf("power_supply_register: no parent, name or get_property: %w", ErrInvalid)
	}
	core := bus.CoreOf(parent)
	if core == nil {
		return nil, fmt.Errorf("power_supply_register %s: parent not on a driver core: %w", desc.Name, ErrInvalid)
	}
	class, err := classOf(core)
	if err != nil {
		return nil, fmt.Errorf("power_supply_register %s: %w", desc.Name, err)
	}
	e := core.Env()
	psy := &PowerSupply{desc: desc, obj: e.Memory().Alloc("struct power_supply " + desc.Name)}
	if cfg != nil {
		psy.drvData = cfg.DrvData
		psy.suppliedTo = slices.Clone(cfg.SuppliedTo)
	}
	psy.dev = device.New(desc.Name, device.WithClass(class), device.WithParent(parent),
		device.WithRelease(func(dev *device.Device) {
			// power_supply_dev_release: kfree(psy)
			psy.emit("power_supply_dev_release", "")
			psy.obj.Free()
		}))
	if err := core.InitializeDevice(psy.dev); err != nil {
		psy.obj.Free()
		return nil, err
	}
	psy.dev.SetDrvdata(psy)
	psy.work = kernel.NewWork(e, "power_supply_changed_work "+desc.Name, psy.changedWork)
	if err := core.AddDevice(psy.dev); err != nil {
		_ = psy.dev.Put()
		return nil, fmt.Errorf("power_supply_register %s: %w", desc.Name, err)
	}
	psy.mu.Lock()
	psy.useCnt++
	psy.mu.Unlock()
	psy.emit("power_supply_register", fmt.Sprintf("supplied_to %v", psy.suppliedTo))
	return psy, nil
}

// Unregister is power_supply_unregister: the supply stops answering
// (use_cnt), its changed_work is cancelled and waited for, and its device
// unregistered: the struct is freed with the last reference to the
// device.
func (psy *PowerSupply) Unregister() {
	psy.obj.Access("power_supply_unregister: psy->use_cnt")
	psy.mu.Lock()
	psy.useCnt--
	warn := psy.useCnt != 0
	psy.removing = true
	psy.mu.Unlock()
	if warn {
		psy.dev.Log().Emit(trace.Event{Kind: trace.Warn, Dev: psy.dev.Path(), Func: "power_supply_unregister", Msg: "use_cnt not zero"})
	}
	psy.emit("power_supply_unregister", "")
	psy.work.CancelSync()
	core := bus.CoreOf(psy.dev)
	if err := core.UnregisterDevice(psy.dev); err != nil {
		psy.emit("power_supply_unregister", "device_unregister: "+device.ErrnoName(err))
	}
}

func (psy *PowerSupply) emit(fn, msg string) {
	psy.dev.Log().Emit(trace.Event{Kind: Kind, Dev: psy.dev.Path(), Func: fn, Msg: msg})
}

// Name returns the supply's name (psy->desc->name).
func (psy *PowerSupply) Name() string { return psy.desc.Name }

// Dev returns the supply's device (&psy->dev).
func (psy *PowerSupply) Dev() *device.Device { return psy.dev }

// Object returns the simulated allocation of the struct.
func (psy *PowerSupply) Object() *env.Object { return psy.obj }

// DrvData is power_supply_get_drvdata.
func (psy *PowerSupply) DrvData() any {
	psy.obj.Access("power_supply_get_drvdata: psy->drv_data")
	return psy.drvData
}

// Changed is power_supply_changed: mark the supply changed and schedule
// its changed_work on system_wq, which notifies the supplies it supplies.
func (psy *PowerSupply) Changed() {
	psy.obj.Access("power_supply_changed: psy->changed")
	psy.mu.Lock()
	psy.changed = true
	psy.mu.Unlock()
	psy.emit("power_supply_changed", "")
	kernel.ScheduleWork(psy.work)
}

// changedWork is power_supply_changed_work: once per change, every supply
// of the class this one supplies gets its external_power_changed call
// (__power_supply_changed_work), then the KOBJ_CHANGE uevent.
func (psy *PowerSupply) changedWork(*kernel.Work) {
	psy.obj.Access("power_supply_changed_work: psy->changed")
	psy.mu.Lock()
	changed := psy.changed
	psy.changed = false
	psy.mu.Unlock()
	if !changed {
		return
	}
	for _, pst := range supplies(psy.dev) {
		if isSuppliedBy(psy, pst) && pst.desc.ExternalPowerChanged != nil {
			pst.emit("external_power_changed", "supplied by "+psy.desc.Name)
			pst.desc.ExternalPowerChanged(pst)
		}
	}
	psy.emit("kobject_uevent", "KOBJ_CHANGE")
}

// supplies is class_for_each_device on the power_supply class of dev's
// machine: the registered supplies in order of registration.
func supplies(dev *device.Device) []*PowerSupply {
	class, err := classOf(bus.CoreOf(dev))
	if err != nil {
		return nil
	}
	var out []*PowerSupply
	for _, d := range class.Devices() {
		if psy, ok := d.Drvdata().(*PowerSupply); ok {
			out = append(out, psy)
		}
	}
	return out
}

// isSuppliedBy is __power_supply_is_supplied_by: supplier names supply
// among its supplied_to.
func isSuppliedBy(supplier, supply *PowerSupply) bool {
	supply.obj.Access("__power_supply_is_supplied_by: supply->desc->name")
	return slices.Contains(supplier.suppliedTo, supply.desc.Name)
}

// GetProperty is power_supply_get_property: ErrNoDevice once the supply
// is being unregistered, else the driver's get_property.
func (psy *PowerSupply) GetProperty(p Property) (int, error) {
	psy.obj.Access("power_supply_get_property: psy->use_cnt")
	psy.mu.Lock()
	live := psy.useCnt > 0
	psy.mu.Unlock()
	if !live {
		return 0, fmt.Errorf("power_supply_get_property %s %s: %w", psy.desc.Name, p, ErrNoDevice)
	}
	return psy.desc.GetProperty(psy, p)
}

// SetProperty is power_supply_set_property.
func (psy *PowerSupply) SetProperty(p Property, v int) error {
	psy.obj.Access("power_supply_set_property: psy->use_cnt")
	psy.mu.Lock()
	live := psy.useCnt > 0
	psy.mu.Unlock()
	if !live || psy.desc.SetProperty == nil {
		return fmt.Errorf("power_supply_set_property %s %s: %w", psy.desc.Name, p, ErrInvalid)
	}
	return psy.desc.SetProperty(psy, p, v)
}

// GetPropertyFromSupplier is power_supply_get_property_from_supplier: the
// property as the first supply of the class that supplies psy and answers
// it reports it; ErrNoDevice when none does.
func (psy *PowerSupply) GetPropertyFromSupplier(p Property) (int, error) {
	psy.obj.Access("power_supply_get_property_from_supplier: psy")
	for _, epsy := range supplies(psy.dev) {
		if !isSuppliedBy(epsy, psy) {
			continue
		}
		if v, err := epsy.GetProperty(p); err == nil {
			return v, nil
		}
	}
	return 0, fmt.Errorf("power_supply_get_property_from_supplier %s %s: %w", psy.desc.Name, p, ErrNoDevice)
}
