package zoo

import (
	"sync/atomic"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/drivers/pcisim"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/zoo/bwctrl"
)

func bwctrlDevmIRQ() *Bug {
	b := &Bug{
		Name:      "bwctrl-devm-irq",
		Subsystem: "PCI, PCIe port service bwctrl",
		Commit:    "15b8968dcb90f194d44501468b230e6e0d816d4a",
		Subject:   "PCI/bwctrl: Fix NULL pointer deref on unbind and bind",
		Author:    "Lukas Wunner, 2025-01",
		Report: "NULL pointer dereference in pcie_bwnotif_irq; an ASUS ROG Strix laptop hung at shutdown " +
			"(bugzilla.kernel.org 219629), likely a hotplug interrupt arriving as the bandwidth " +
			"controller unregistered.",
		Race: "T1 unbinds the bandwidth controller: pcie_bwnotif_remove sets port->link_bwctrl to NULL, " +
			"but its interrupt, requested with devm_request_irq, stays until devres frees it after " +
			"remove() | T2 (the hardware) a hotplug event latches Link Bandwidth Management Status " +
			"and raises the port's interrupt, shared by hotplug and bwctrl | pcie_bwnotif_irq sees " +
			"LBMS and increments data->lbms_count through the NULL pointer. Bind has the mirror " +
			"window: the interrupt is requested before the pointer is set.",
		Fix: "request_irq (not devm) after setting port->link_bwctrl, and free_irq in remove() before " +
			"clearing it, both inside the pcie_bwctrl_setspeed_rwsem and pcie_bwctrl_lbms_rwsem " +
			"critical sections.",
		Notes: "The rw-semaphores are taken for writing only, so they are modelled as mutexes; the " +
			"thermal cooling device and link-speed changes are left out. pciehp is reduced to its " +
			"interrupt handler.",
	}
	pair(b, "bwctrl port service", [2]string{
		"The bandwidth controller is unbound and bound again through sysfs while a hotplug event raises " +
			"the port's shared interrupt: its handler runs with port->link_bwctrl NULL, an oops.",
		"The same race with the fix: the interrupt is requested after the data is set and freed " +
			"before it is cleared; every schedule handles the event or leaves it to hotplug.",
	}, sim.BugPanic, bwctrlRun)
	return b
}

// pciehp is the hotplug port service reduced to its interrupt handler
// (pciehp_isr): a Presence Detect Changed event is its, anything else is
// not.
func pciehp(sys *drvsim.System) *pcisim.ServiceDriver {
	isr := func(_ int, ctx any) kernel.IRQReturn {
		port := ctx.(*pcisim.Device).Port()
		sta, err := port.CapabilityReadWord(pcisim.SltSta)
		if err != nil || sta&pcisim.SltStaPDC == 0 {
			return kernel.IRQNone
		}
		_ = port.CapabilityWriteWord(pcisim.SltSta, pcisim.SltStaPDC)
		return kernel.IRQHandled
	}
	return &pcisim.ServiceDriver{Name: "pciehp", Service: pcisim.ServiceHP,
		Probe: func(srv *pcisim.Device) error {
			return kernel.RequestIRQ(sys, srv.IRQ(), isr, kernel.IRQFShared, "pciehp", srv)
		},
		Remove: func(srv *pcisim.Device) { kernel.FreeIRQ(sys, srv.IRQ(), srv) },
	}
}

// bwctrlRun is one run: a Root Port on interrupt 16 with its hotplug and
// bandwidth-controller services bound. Task "sysfs" unbinds the bandwidth
// controller and binds it again (and, once the interrupt is raised,
// unbinds it for good: the machine shuts down); task "hotplug" is the
// hardware: the card below the port goes, latching Presence Detect
// Changed and Link Bandwidth Management Status, and the port raises its
// interrupt.
func bwctrlRun(s *sim.Sim, sys *drvsim.System, fixed bool) {
	p, err := pcisim.Init(sys)
	must(err)
	v := bwctrl.Before
	if fixed {
		v = bwctrl.After
	}
	must(p.RegisterPortService(pciehp(sys)))
	must(p.RegisterPortService(bwctrl.Driver(v, p)))
	port, err := p.AddRootPort("0000:00:1c.0", 16, pcisim.ServiceHP|pcisim.ServiceBWCtrl)
	must(err)
	var bw *pcisim.Device
	for _, srv := range port.Services() {
		if srv.Service() == pcisim.ServiceBWCtrl {
			bw = srv
		}
	}
	var raised atomic.Bool
	s.Go("sysfs", func() {
		must(sys.Unbind(bw.Dev()))
		must(sys.Bind(bw.Dev(), "pcie_bwctrl"))
		// The machine shuts down once the event is handled.
		s.Block(sched.Wait{What: "the hotplug event"}, raised.Load)
		must(sys.Unbind(bw.Dev()))
	})
	s.Go("hotplug", func() {
		port.Latch(pcisim.SltSta, pcisim.SltStaPDC)
		port.Latch(pcisim.LnkSta, pcisim.LnkStaLBMS)
		must(kernel.RaiseIRQ(sys, port.IRQ()))
		raised.Store(true)
	})
}
