// Package bwctrl is drivers/pci/pcie/bwctrl.c, the PCIe bandwidth
// controller port service, twice: as it was before commit 15b8968dcb90
// ("PCI/bwctrl: Fix NULL pointer deref on unbind and bind", Lukas Wunner,
// 2025) and after it, written against drvsim's PCI port services
// (drivers/pcisim) and interrupt library with the same calls in the same
// order.
//
// The bandwidth-notification interrupt handler dereferences the port's
// link_bwctrl data. Before the fix, the handler was requested with
// devm_request_irq: on unbind, remove() set the data pointer to NULL but
// the interrupt stayed requested until devres freed it after remove()
// returned, and the line is shared with AER, DPC, PME and hotplug, so the
// handler could run in between and dereference NULL; on bind, the
// interrupt was requested before the pointer was set. The fix requests
// the interrupt with plain request_irq after setting the pointer, and
// frees it in remove() before clearing the pointer, both under the
// driver's rw-semaphores.
//
// The thermal cooling device, link-speed changes (pcie_set_target_speed)
// and suspend/resume are left out.
package bwctrl

import (
	"sync"
	"sync/atomic"

	"github.com/drvsim/drvsim/drivers/pcisim"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/trace"
)

// Kind is the trace kind of the driver's own steps.
const Kind trace.Kind = "bwctrl"

// Variant is the driver before or after the fix.
type Variant int

// The variants.
const (
	// Before requests the interrupt with devm_request_irq before setting
	// the data pointer, and clears the pointer in remove().
	Before Variant = iota
	// After requests it after setting the pointer and frees it in
	// remove() before clearing it.
	After
)

// data is struct pcie_bwctrl_data, devm_kzalloc'ed in probe.
type data struct {
	obj           *env.Object
	setSpeedMutex *kernel.Mutex
	lbmsCount     atomic.Int32
}

// module is the driver's statics: its rw-semaphores (write-locked here,
// so kernel mutexes) and the ports' link_bwctrl pointers.
type module struct {
	v             Variant
	lbmsRWSem     *kernel.Mutex // pcie_bwctrl_lbms_rwsem
	setspeedRWSem *kernel.Mutex // pcie_bwctrl_setspeed_rwsem

	mu         sync.Mutex
	linkBwctrl map[*pcisim.Dev]*data // port->link_bwctrl
}

// Driver returns the port service driver "pcie_bwctrl" in variant v on
// p's machine.
func Driver(v Variant, p *pcisim.PCI) *pcisim.ServiceDriver {
	m := &module{v: v, linkBwctrl: map[*pcisim.Dev]*data{},
		lbmsRWSem:     kernel.NewMutex(p, "pcie_bwctrl_lbms_rwsem"),
		setspeedRWSem: kernel.NewMutex(p, "pcie_bwctrl_setspeed_rwsem")}
	return &pcisim.ServiceDriver{Name: "pcie_bwctrl", Service: pcisim.ServiceBWCtrl, Probe: m.probe, Remove: m.remove}
}

// get and set read and write port->link_bwctrl.
func (m *module) get(port *pcisim.Dev) *data {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.linkBwctrl[port]
}

func (m *module) set(port *pcisim.Dev, d *data) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.linkBwctrl[port] = d
}

func emit(srv *pcisim.Device, fn, msg string) {
	srv.Dev().Log().Emit(trace.Event{Kind: Kind, Dev: srv.Dev().Path(), Func: fn, Msg: msg})
}

// enable is pcie_bwnotif_enable: count an LBMS seen so far, enable the
// notifications, clear the status bits.
func (m *module) enable(srv *pcisim.Device) {
	port := srv.Port()
	d := m.get(port)
	if sta, err := port.CapabilityReadWord(pcisim.LnkSta); err == nil && sta&pcisim.LnkStaLBMS != 0 {
		d.obj.Access("pcie_bwnotif_enable: atomic_inc(&data->lbms_count)")
		d.lbmsCount.Add(1)
	}
	_ = port.CapabilitySetWord(pcisim.LnkCtl, pcisim.LnkCtlLBMIE|pcisim.LnkCtlLABIE)
	_ = port.CapabilityWriteWord(pcisim.LnkSta, pcisim.LnkStaLBMS|pcisim.LnkStaLABS)
	emit(srv, "pcie_update_link_speed", "")
}

// disable is pcie_bwnotif_disable.
func disable(port *pcisim.Dev) {
	_ = port.CapabilityClearWord(pcisim.LnkCtl, pcisim.LnkCtlLBMIE|pcisim.LnkCtlLABIE)
}

// irq is pcie_bwnotif_irq: on a Link Bandwidth Management or Autonomous
// Bandwidth event, count it in the port's data and clear it.
func (m *module) irq(_ int, context any) kernel.IRQReturn {
	srv := context.(*pcisim.Device)
	d := m.get(srv.Port()) // srv->port->link_bwctrl
	port := srv.Port()
	sta, err := port.CapabilityReadWord(pcisim.LnkSta)
	if err != nil {
		return kernel.IRQNone
	}
	events := sta & (pcisim.LnkStaLBMS | pcisim.LnkStaLABS)
	if events == 0 {
		return kernel.IRQNone
	}
	if events&pcisim.LnkStaLBMS != 0 {
		d.obj.Access("pcie_bwnotif_irq: atomic_inc(&data->lbms_count)") // NULL once remove() cleared it
		d.lbmsCount.Add(1)
	}
	_ = port.CapabilityWriteWord(pcisim.LnkSta, events)
	emit(srv, "pcie_update_link_speed", "")
	return kernel.IRQHandled
}

// probe is pcie_bwnotif_probe, in the variant's order.
func (m *module) probe(srv *pcisim.Device) error {
	port := srv.Port()
	dev := srv.Dev()
	d := &data{obj: dev.Env().Memory().Alloc("struct pcie_bwctrl_data")}
	if _, err := dev.Devres().AddOrReset("devm_kzalloc pcie_bwctrl_data", d.obj.Free); err != nil {
		return err
	}
	d.setSpeedMutex = kernel.NewMutex(dev, "set_speed_mutex") // devm_mutex_init
	if m.v == Before {
		if err := kernel.DevmRequestIRQ(dev, srv.IRQ(), m.irq, kernel.IRQFShared, "PCIe bwctrl", srv); err != nil {
			return err
		}
		m.setspeedRWSem.Lock()
		m.lbmsRWSem.Lock()
		m.set(port, d)
		m.enable(srv)
		m.lbmsRWSem.Unlock()
		m.setspeedRWSem.Unlock()
	} else {
		m.setspeedRWSem.Lock()
		m.lbmsRWSem.Lock()
		m.set(port, d)
		if err := kernel.RequestIRQ(dev, srv.IRQ(), m.irq, kernel.IRQFShared, "PCIe bwctrl", srv); err != nil {
			m.set(port, nil)
			m.lbmsRWSem.Unlock()
			m.setspeedRWSem.Unlock()
			return err
		}
		m.enable(srv)
		m.lbmsRWSem.Unlock()
		m.setspeedRWSem.Unlock()
	}
	kernel.DevDbg(port.Dev(), "bwctrl: enabled with IRQ %d", srv.IRQ())
	return nil
}

// remove is pcie_bwnotif_remove, in the variant's order.
func (m *module) remove(srv *pcisim.Device) {
	d := m.get(srv.Port())
	d.obj.Access("pcie_bwnotif_remove: pcie_cooling_device_unregister(data->cdev)")
	if m.v == Before {
		disable(srv.Port())
		m.setspeedRWSem.Lock()
		m.lbmsRWSem.Lock()
		m.set(srv.Port(), nil)
		m.lbmsRWSem.Unlock()
		m.setspeedRWSem.Unlock()
		return
	}
	m.setspeedRWSem.Lock()
	m.lbmsRWSem.Lock()
	disable(srv.Port())
	kernel.FreeIRQ(srv.Dev(), srv.IRQ(), srv)
	m.set(srv.Port(), nil)
	m.lbmsRWSem.Unlock()
	m.setspeedRWSem.Unlock()
}
