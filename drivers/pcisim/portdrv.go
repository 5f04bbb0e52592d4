package pcisim

import (
	"fmt"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
)

// Service is a port service bit (PCIE_PORT_SERVICE_*).
type Service uint32

// The port services.
const (
	ServicePME    Service = 1 << 0
	ServiceAER    Service = 1 << 1
	ServiceHP     Service = 1 << 2
	ServiceDPC    Service = 1 << 3
	ServiceBWCtrl Service = 1 << 4
)

var serviceOrder = []Service{ServicePME, ServiceAER, ServiceHP, ServiceDPC, ServiceBWCtrl}

// Device is struct pcie_device: one service of a port, a device
// "<port>:pcie0NN" of the pci_express bus below the port.
type Device struct {
	dev     *device.Device
	port    *Dev
	irq     int
	service Service
}

// Dev returns the service device (&srv->device).
func (s *Device) Dev() *device.Device { return s.dev }

// Port returns the port the service belongs to (srv->port).
func (s *Device) Port() *Dev { return s.port }

// IRQ returns the service's interrupt line (srv->irq): the port's.
func (s *Device) IRQ() int { return s.irq }

// Service returns the service bit.
func (s *Device) Service() Service { return s.service }

// ServiceDriver is struct pcie_port_service_driver.
type ServiceDriver struct {
	Name    string
	Service Service
	Probe   func(srv *Device) error
	Remove  func(srv *Device)

	p   *PCI
	drv *driver.Driver
}

// RegisterPortService is pcie_port_service_register: the driver binds the
// service devices of its service.
func (p *PCI) RegisterPortService(d *ServiceDriver) error {
	if d == nil || d.Name == "" || d.Service == 0 {
		return fmt.Errorf("pcie_port_service_register: %w", ErrInvalid)
	}
	if d.p != nil {
		return fmt.Errorf("pcie_port_service_register %s: %w", d.Name, ErrBusy)
	}
	drv := &driver.Driver{Name: d.Name, Bus: PortBusName}
	p.mu.Lock()
	d.p, d.drv = p, drv
	p.drivers[drv] = d
	p.mu.Unlock()
	if err := p.core.RegisterDriver(drv); err != nil {
		p.mu.Lock()
		delete(p.drivers, drv)
		d.p, d.drv = nil, nil
		p.mu.Unlock()
		return fmt.Errorf("pcie_port_service_register %s: %w", d.Name, err)
	}
	return nil
}

// UnregisterPortService is pcie_port_service_unregister.
func (p *PCI) UnregisterPortService(d *ServiceDriver) error {
	if d == nil || d.p != p {
		return fmt.Errorf("pcie_port_service_unregister: %w", ErrInvalid)
	}
	if err := p.core.UnregisterDriver(d.drv); err != nil {
		return err
	}
	p.mu.Lock()
	delete(p.drivers, d.drv)
	d.p, d.drv = nil, nil
	p.mu.Unlock()
	return nil
}

// ServiceOf returns the service device behind dev, or nil.
func (p *PCI) ServiceOf(dev *device.Device) *Device {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.services[dev]
}

// Services returns the port's service devices, in service order.
func (d *Dev) Services() []*Device {
	var out []*Device
	for _, c := range d.dev.Children() {
		if s := d.p.ServiceOf(c); s != nil {
			out = append(out, s)
		}
	}
	return out
}

// portMatch is pcie_port_bus_match: a service device and a driver of its
// service (the port type is always a Root Port here).
func (p *PCI) portMatch(dev *device.Device, drv *driver.Driver) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, d := p.services[dev], p.drivers[drv]
	return s != nil && d != nil && d.Service == s.service
}

// probeService is pcie_port_probe_service: the driver's probe, then a
// reference on the service device (put at remove).
func (p *PCI) probeService(dev *device.Device, drv *driver.Driver) error {
	p.mu.Lock()
	s, d := p.services[dev], p.drivers[drv]
	p.mu.Unlock()
	if s == nil || d == nil {
		return fmt.Errorf("pcie_port_probe_service %s: %w", dev.Path(), device.ErrNoDevice)
	}
	if d.Probe != nil {
		if err := d.Probe(s); err != nil {
			return err
		}
	}
	dev.Get()
	return nil
}

// removeService is pcie_port_remove_service.
func (p *PCI) removeService(dev *device.Device, drv *driver.Driver) {
	p.mu.Lock()
	s, d := p.services[dev], p.drivers[drv]
	p.mu.Unlock()
	if s == nil || d == nil {
		return
	}
	if d.Remove != nil {
		d.Remove(s)
	}
	_ = dev.Put()
}

// portdrvProbe is pcie_portdrv_probe: pcie_port_device_register creates a
// service device for every service of the port, each with the port's
// interrupt (pcie_device_init).
func (p *PCI) portdrvProbe(dev *device.Device) error {
	p.mu.Lock()
	port := p.devs[dev]
	p.mu.Unlock()
	if port == nil {
		return device.ErrNoDevice
	}
	for _, svc := range serviceOrder {
		if port.services&svc == 0 {
			continue
		}
		s := &Device{port: port, irq: port.irq, service: svc}
		s.dev = device.New(fmt.Sprintf("%s:pcie%03x", port.Name(), uint32(svc)), device.WithBus(p.port), device.WithParent(dev),
			device.WithRelease(func(d *device.Device) {
				p.mu.Lock()
				delete(p.services, d)
				p.mu.Unlock()
			}))
		p.mu.Lock()
		p.services[s.dev] = s
		p.mu.Unlock()
		if err := p.core.RegisterDevice(s.dev); err != nil {
			return fmt.Errorf("pcie_device_init %s: %w", s.dev.Name(), err)
		}
	}
	return nil
}

// portdrvRemove is pcie_portdrv_remove: pcie_port_device_remove
// unregisters the service devices.
func (p *PCI) portdrvRemove(dev *device.Device) {
	for _, c := range dev.Children() {
		if p.ServiceOf(c) != nil {
			_ = p.core.UnregisterDevice(c)
		}
	}
}
