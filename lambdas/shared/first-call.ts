// Builds a Lambda's handler once, on its first invocation, so that importing its module reads no environment.

/**
 * The module-scope `handler` of each Lambda: Lambda calls it, and it builds the real handler from the
 * validated environment the first time, then reuses it for the life of the instance. Importing the module
 * (the local stack and the tests do, for its factory) builds nothing and needs no variable.
 */
export const builtOnFirstCall = <A extends unknown[], R>(
  build: () => (...args: A) => R,
): ((...args: A) => R) => {
  let built: ((...args: A) => R) | undefined;
  return (...args) => {
    built ??= build();
    return built(...args);
  };
};
