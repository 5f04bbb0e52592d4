// Package i2csim models the Linux I2C core (drivers/i2c/i2c-core-base.c,
// i2c-core-smbus.c) on the drvsim driver core, at the size its drivers'
// lifecycles need: the "i2c" bus, adapters (i2c_add_adapter,
// i2c_del_adapter, i2c_get_adapter, i2c_put_adapter), client devices
// instantiated on them (i2c_new_client_device, i2c_unregister_device),
// i2c drivers matched by id table (i2c_add_driver, i2c_del_driver), and
// SMBus byte transfers to the chip wired at a client's address.
//
// Adapters and clients are both devices of the i2c bus, as in the kernel
// (an adapter has the i2c_adapter device type, a client the i2c_client
// one): only clients bind to drivers, and a bus notifier sees both
// (i2c-dev creates its /dev/i2c-N nodes from the adapters' add and delete
// notifications). i2c_del_adapter waits for the adapter's last reference,
// as the kernel's wait_for_completion(&adap->dev_released) does, so a
// holder of i2c_get_adapter (an open /dev/i2c-N) keeps it waiting.
//
// The hardware is a Chip connected at an address of an adapter
// (Adapter.Connect); transfers to an address with nothing connected fail
// with -ENXIO. Every step is a trace event of Kind named after the kernel
// function; transfers are schedule points under the simulator.
package i2csim
