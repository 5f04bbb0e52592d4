// Package powersupplysim models the Linux power-supply class
// (drivers/power/supply/power_supply_core.c) at the size its drivers'
// lifecycles need: chargers, batteries and external supplies registered as
// devices of the "power_supply" class (power_supply_register,
// power_supply_unregister), their properties (power_supply_get_property,
// power_supply_set_property, power_supply_get_property_from_supplier),
// and change notification (power_supply_changed, whose work calls the
// external_power_changed callback of every supply the changed one
// supplies).
//
// A PowerSupply is, as in the kernel, a struct the core allocates and the
// device's release frees (power_supply_dev_release): it lives as long as
// its device has references, and is a simulated allocation of the
// machine's memory arena, so a driver touching it after its last
// reference is gone (a work item still running after
// power_supply_unregister) gets KASAN's use-after-free. Every step is a
// trace event of Kind named after the kernel function.
package powersupplysim
