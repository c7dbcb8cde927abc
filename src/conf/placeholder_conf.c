/* placeholder */ typedef int sw_conf_placeholder_t;
