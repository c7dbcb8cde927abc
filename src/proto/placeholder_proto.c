/* placeholder */ typedef int sw_proto_placeholder_t;
