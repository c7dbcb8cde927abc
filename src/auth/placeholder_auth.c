/* placeholder */ typedef int sw_auth_placeholder_t;
