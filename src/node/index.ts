/** webraft/node: Node-only parts (durable storage, TCP helpers) (work in progress). */
export {};
