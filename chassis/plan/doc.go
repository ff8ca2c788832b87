// Package plan decides, from the replicated southbound and local
// Open_vSwitch rows and the configuration, what the chassis wants: which
// Port_Bindings it claims and releases, its Chassis, Encap and
// Chassis_Private rows, its tunnel and provider patch ports, which logical
// datapaths are local, which gateway is active for each chassisredirect
// port, and the physical flow input. Each result is a value: OVSDB
// operations to send or a physical.Input to compile.
//
// It is pure: it reads replica.DB values and returns values. It must not
// import the OVSDB client, ofctl or anything with a socket.
package plan
