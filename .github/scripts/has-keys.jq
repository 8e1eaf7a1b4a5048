# True when the input is an object holding every key of $keys (ci.yml, terraform-plan: TF_VARS_JSON).
type == "object" and (. as $o | all($keys[]; . as $k | $o | has($k)))
