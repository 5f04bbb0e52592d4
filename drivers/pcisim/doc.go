// Package pcisim models the part of the Linux PCI core a PCI Express
// port's service drivers live in (drivers/pci/pcie/portdrv.c and the
// capability accessors of drivers/pci/access.c): PCI devices with the
// PCIe capability registers the port services use (Link Control and
// Status, Slot Control and Status), the "pci" bus with the port driver
// "pcieport", which creates one service device per capability of a Root
// Port on the "pci_express" bus (pcie_port_device_register), and service
// drivers bound to them by service (pcie_port_service_register).
//
// Every service of a port shares the port's interrupt line, as with
// INTx or a single MSI vector: AER, DPC, PME, hotplug and the bandwidth
// controller each request it with IRQF_SHARED, and the simulated
// hardware raises it (kernel.RaiseIRQ) for any of them. Status bits are
// write-one-to-clear, as in the hardware.
package pcisim
