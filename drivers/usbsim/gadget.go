package usbsim

// Gadget is what gets plugged into a port: a device's descriptors and the
// model that answers its transfers (the hardware on the other end of the
// cable).
type Gadget struct {
	// Desc is the device descriptor.
	Desc DeviceDescriptor
	// Config is the configuration usb_choose_configuration picks.
	Config ConfigDescriptor
	// Function answers transfers; nil NAKs everything.
	Function Function
	// HubPorts, when positive, makes the device a hub with that many
	// downstream ports (its interface binds to the hub driver).
	HubPorts int
	// RemoteWakeup is the configuration's remote-wakeup capability
	// (bmAttributes USB_CONFIG_ATT_WAKEUP): the device can wake itself
	// from suspend (Device.RemoteWakeup).
	RemoteWakeup bool
}

// HubGadget returns an external hub with ports downstream ports: device
// class 9, one interface of class 9 with its interrupt IN status endpoint.
func HubGadget(ports int) *Gadget {
	return &Gadget{
		Desc: DeviceDescriptor{VendorID: 0x05e3, ProductID: 0x0608, Class: ClassHub},
		Config: ConfigDescriptor{Value: 1, Interfaces: []InterfaceDescriptor{{
			Number: 0, Class: ClassHub,
			Endpoints: []EndpointDescriptor{{Address: DirIn | 1, Type: Interrupt, MaxPacket: 1}},
		}}},
		HubPorts: ports,
	}
}

// rootHubGadget is the root hub's descriptor set (Linux Foundation 1d6b).
func rootHubGadget(ports int) *Gadget {
	g := HubGadget(ports)
	g.Desc.VendorID, g.Desc.ProductID = 0x1d6b, 0x0002
	return g
}

// BulkGadget returns a vendor-specific device vid:pid with one interface
// holding a bulk IN (0x81) and a bulk OUT (0x02) endpoint of maxPacket
// bytes, answered by fn: the usb-skeleton's device.
func BulkGadget(vendor, product uint16, maxPacket int, fn Function) *Gadget {
	return &Gadget{
		Desc: DeviceDescriptor{VendorID: vendor, ProductID: product, Class: ClassPerInterface},
		Config: ConfigDescriptor{Value: 1, Interfaces: []InterfaceDescriptor{{
			Number: 0, Class: ClassVendorSpec,
			Endpoints: []EndpointDescriptor{
				{Address: DirIn | 1, Type: Bulk, MaxPacket: maxPacket},
				{Address: 2, Type: Bulk, MaxPacket: maxPacket},
			},
		}}},
		Function: fn,
	}
}
