// Package northd is the translator daemon: it monitors OVN_Northbound and the
// OVN_Southbound tables it needs through hcnet/internal/client, feeds NB
// changes to the incremental engine (hcnet/northd/engine), and, while it holds
// the SB lock "ovn_northd", writes the difference between the desired SB
// content and SB's actual rows, one transaction per batch of changes. It
// closes the acknowledgement chain (NB_Global.nb_cfg → SB_Global.nb_cfg →
// NB_Global.sb_cfg, Chassis_Private.nb_cfg → NB_Global.hv_cfg) and copies
// Port_Binding.up to Logical_Switch_Port.up.
//
// Load balancer health checks: northd gives NB_Global a random
// options:svc_monitor_mac when it has none (as ovn-northd does), writes the
// SB Service_Monitor rows, and feeds their status (the chassis's) back to
// the engine, where only the datapaths whose VIPs name the backend
// recompute (health.go, translate/health.go).
//
// A logical flow that several datapaths want is one Logical_Flow row on a
// Logical_DP_Group shared by every flow with the same datapaths, as
// ovn-northd 23.03 writes them; adding or removing a datapath mutates the
// groups. Rows written by another instance or by ovn-northd are adopted
// when they already say the same. Large writes (a first translation, a
// takeover) go in transactions of two datapaths, which cost ovsdb-server
// far less than large ones.
//
// Standby instances keep the same state hot and start writing as soon as the
// lock is granted to them. One goroutine (Run) owns all state; monitor
// handlers only hand updates over through channels.
//
// The pure parts live in northd/translate and northd/engine; this package
// must not be imported by chassis.
package northd
