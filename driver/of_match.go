package driver

// OFDeviceID is one entry of a driver's device-tree match table (struct
// of_device_id, include/linux/mod_devicetable.h): a device-tree node
// matches when its compatible list holds Compatible (compared without
// regard to case) and, when set, its device_type is Type and its name is
// Name. Data is the entry's match data (of_device_get_match_data).
type OFDeviceID struct {
	Name       string
	Type       string
	Compatible string
	Data       any
}
