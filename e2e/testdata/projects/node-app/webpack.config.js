'use strict';
const path = require('node:path');

module.exports = {
  entry: './src/client.js',
  output: { path: path.resolve(__dirname, 'dist'), filename: 'client.js' },
  module: {
    rules: [
      {
        test: /\.js$/,
        exclude: /node_modules/,
        use: { loader: 'babel-loader', options: { presets: [['@babel/preset-env', { targets: 'defaults' }]] } },
      },
    ],
  },
};
