package pcisim

import (
	"fmt"
	"reflect"
	"sync"

	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/trace"
)

// Bus names: the PCI bus (pci_bus_type) and the port services' bus
// (pcie_port_bus_type).
const (
	BusName     = "pci"
	PortBusName = "pci_express"
)

// Kind is the trace kind of the PCI core's events.
const Kind trace.Kind = "pci"

// Errors of these paths (package device's values).
var (
	// ErrInvalid is -EINVAL: a nil driver, a bad register, a bad name.
	ErrInvalid = device.ErrInvalid
	// ErrBusy is -EBUSY: a driver registered twice.
	ErrBusy = device.ErrBusy
)

// PCIe capability registers (offsets in the capability, PCI_EXP_*) and
// their bits.
const (
	LnkCtl = 0x10 // PCI_EXP_LNKCTL
	LnkSta = 0x12 // PCI_EXP_LNKSTA
	SltCtl = 0x18 // PCI_EXP_SLTCTL
	SltSta = 0x1a // PCI_EXP_SLTSTA

	LnkCtlLBMIE = 0x0400 // Link Bandwidth Management Interrupt Enable
	LnkCtlLABIE = 0x0800 // Link Autonomous Bandwidth Interrupt Enable
	LnkStaLBMS  = 0x4000 // Link Bandwidth Management Status (RW1C)
	LnkStaLABS  = 0x8000 // Link Autonomous Bandwidth Status (RW1C)
	SltCtlPDCE  = 0x0008 // Presence Detect Changed Enable
	SltCtlHPIE  = 0x0020 // Hot-Plug Interrupt Enable
	SltStaPDC   = 0x0008 // Presence Detect Changed (RW1C)
	SltStaPDS   = 0x0040 // Presence Detect State
)

// rw1c are the write-one-to-clear bits of each status register.
var rw1c = map[int]uint16{LnkSta: LnkStaLBMS | LnkStaLABS, SltSta: SltStaPDC}

// PCI is the PCI core of one machine: its two buses, its devices and
// service devices, its drivers. Create it with Init.
type PCI struct {
	core    *bus.Core
	pci     *bus.Bus
	port    *bus.Bus
	portdrv *driver.Driver

	mu       sync.Mutex
	devs     map[*device.Device]*Dev
	services map[*device.Device]*Device
	drivers  map[*driver.Driver]*ServiceDriver
}

// Init is pci_driver_init plus pcie_portdrv_init on machine m: the "pci"
// and "pci_express" buses and the port driver "pcieport".
func Init(m bus.Machine) (*PCI, error) {
	if m == nil || reflect.ValueOf(m).IsNil() {
		return nil, fmt.Errorf("pci_driver_init: no machine: %w", ErrInvalid)
	}
	p := &PCI{core: m.DriverCore(), devs: map[*device.Device]*Dev{},
		services: map[*device.Device]*Device{}, drivers: map[*driver.Driver]*ServiceDriver{}}
	p.pci = &bus.Bus{Name: BusName, Match: p.pciMatch}
	p.port = &bus.Bus{Name: PortBusName, Match: p.portMatch, Probe: p.probeService, Remove: p.removeService}
	if err := p.core.RegisterBus(p.pci); err != nil {
		return nil, fmt.Errorf("pci_driver_init: %w", err)
	}
	if err := p.core.RegisterBus(p.port); err != nil {
		return nil, fmt.Errorf("pcie_port_bus_register: %w", err)
	}
	p.portdrv = &driver.Driver{Name: "pcieport", Bus: BusName, Probe: p.portdrvProbe, Remove: p.portdrvRemove}
	if err := p.core.RegisterDriver(p.portdrv); err != nil {
		return nil, fmt.Errorf("pcie_portdrv_init: %w", err)
	}
	return p, nil
}

// Core returns the driver core.
func (p *PCI) Core() *bus.Core { return p.core }

// Env returns the machine's environment (it makes a PCI an env.Host).
func (p *PCI) Env() *env.Env { return p.core.Env() }

func (p *PCI) emit(dev, fn, msg string) {
	p.core.Log().Emit(trace.Event{Kind: Kind, Dev: dev, Func: fn, Msg: msg})
}

// Dev is struct pci_dev: a PCI function with a PCIe capability, its
// registers and its interrupt line.
type Dev struct {
	p        *PCI
	dev      *device.Device
	irq      int
	services Service

	mu   sync.Mutex
	regs map[int]uint16
}

// AddRootPort is pci_device_add of a PCIe Root Port named name (its
// address, "0000:00:1c.0") with interrupt line irq and the port services
// its capabilities offer; the port driver binds it and creates one
// service device per service.
func (p *PCI) AddRootPort(name string, irq int, services Service) (*Dev, error) {
	if name == "" || irq <= 0 {
		return nil, fmt.Errorf("pci_device_add %q irq %d: %w", name, irq, ErrInvalid)
	}
	d := &Dev{p: p, irq: irq, services: services, regs: map[int]uint16{}}
	d.dev = device.New(name, device.WithBus(p.pci))
	p.mu.Lock()
	p.devs[d.dev] = d
	p.mu.Unlock()
	p.emit(d.dev.Path(), "pci_device_add", fmt.Sprintf("[8086:a110] type 01 class 0x060400 PCIe Root Port, irq %d", irq))
	if err := p.core.RegisterDevice(d.dev); err != nil {
		p.mu.Lock()
		delete(p.devs, d.dev)
		p.mu.Unlock()
		return nil, err
	}
	return d, nil
}

// Dev returns the function's device (&pdev->dev).
func (d *Dev) Dev() *device.Device { return d.dev }

// Name is pci_name.
func (d *Dev) Name() string { return d.dev.Name() }

// IRQ returns the function's interrupt line (pdev->irq).
func (d *Dev) IRQ() int { return d.irq }

// Remove is pci_stop_and_remove_bus_device: pci_stop_bus_device releases
// the port driver (whose remove unregisters the services), then
// pci_remove_bus_device unregisters the device.
func (d *Dev) Remove() error {
	if err := d.p.core.ReleaseDriver(d.dev); err != nil {
		return err
	}
	return d.p.core.UnregisterDevice(d.dev)
}

func checkReg(reg int) error {
	switch reg {
	case LnkCtl, LnkSta, SltCtl, SltSta:
		return nil
	}
	return fmt.Errorf("pcie capability register %#x: %w", reg, ErrInvalid)
}

// CapabilityReadWord is pcie_capability_read_word.
func (d *Dev) CapabilityReadWord(reg int) (uint16, error) {
	if err := checkReg(reg); err != nil {
		return 0, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.regs[reg], nil
}

// CapabilityWriteWord is pcie_capability_write_word: status bits that are
// write-one-to-clear are cleared by writing them.
func (d *Dev) CapabilityWriteWord(reg int, v uint16) error {
	if err := checkReg(reg); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if m, ok := rw1c[reg]; ok {
		d.regs[reg] &^= v & m
		d.regs[reg] = d.regs[reg]&m | v&^m
		return nil
	}
	d.regs[reg] = v
	return nil
}

// CapabilitySetWord is pcie_capability_set_word.
func (d *Dev) CapabilitySetWord(reg int, bits uint16) error {
	return d.clearAndSet(reg, 0, bits)
}

// CapabilityClearWord is pcie_capability_clear_word.
func (d *Dev) CapabilityClearWord(reg int, bits uint16) error {
	return d.clearAndSet(reg, bits, 0)
}

func (d *Dev) clearAndSet(reg int, clear, set uint16) error {
	if err := checkReg(reg); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.regs[reg] = d.regs[reg]&^clear | set
	return nil
}

// Latch is the hardware setting status bits of register reg (a link or
// presence change); it does not raise the interrupt.
func (d *Dev) Latch(reg int, bits uint16) {
	d.mu.Lock()
	d.regs[reg] |= bits
	d.mu.Unlock()
}

// pciMatch is pci_bus_match: the port driver binds Root Ports; no other
// PCI driver is modelled.
func (p *PCI) pciMatch(dev *device.Device, drv *driver.Driver) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.devs[dev] != nil && drv == p.portdrv
}
