/**
 * IAM rules every function follows.
 *
 * SST 4.x builds each function role's trust policy with `!dev ? lambdaOnly : lambdaAndAccountRoot`, but `dev`
 * there is a Pulumi Output, so `!dev` is always false and every deployed role also trusts the account root
 * (any principal in the account with sts:AssumeRole could become the function). The transform below replaces
 * the trust policy of every `sst.aws.Function` role, whoever creates the function.
 */

export const LAMBDA_TRUST_POLICY = JSON.stringify({
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Allow",
      Principal: { Service: "lambda.amazonaws.com" },
      Action: "sts:AssumeRole",
    },
  ],
});

export function enforceLambdaOnlyTrust(): void {
  $transform(sst.aws.Function, (args) => {
    const previous = args.transform?.role;
    args.transform = {
      ...args.transform,
      role: (roleArgs, opts, name) => {
        if (typeof previous === "function") previous(roleArgs, opts, name);
        else if (previous) Object.assign(roleArgs, previous);
        roleArgs.assumeRolePolicy = LAMBDA_TRUST_POLICY;
      },
    };
  });
}

/** `arn:<partition>:<service>:<region>:<account>:` for the account and region being deployed to. */
export function arnPrefix(service: string, options: { region?: boolean; account?: boolean } = {}) {
  const partition = aws.getPartitionOutput().partition;
  const region = options.region === false ? "" : aws.getRegionOutput().region;
  const account = options.account === false ? "" : aws.getCallerIdentityOutput().accountId;
  return $interpolate`arn:${partition}:${service}:${region}:${account}:`;
}
